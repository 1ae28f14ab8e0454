import { useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button } from '#/components/ui/button';
import { authProvidersQuery, confirmAge, profileQuery } from '#/features/auth/identity-api';
import { safeNextPath, useSignOut } from '#/features/auth/hooks/use-session';
import { describeError } from '#/lib/api-client';
import { AuthShell } from './auth-shell';

/** Shown once to people who signed up with a provider (or were created by the operator) before they use the studio. */
export function Component() {
  const minAge = useQuery(authProvidersQuery).data?.min_age ?? 13;
  const [checked, setChecked] = useState(false);
  const [error, setError] = useState<string>();
  const [isBusy, setBusy] = useState(false);
  const navigate = useNavigate();
  const client = useQueryClient();
  const signOut = useSignOut();
  const [params] = useSearchParams();

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!checked) return setError(`Confirm that you are at least ${minAge} years old to continue.`);
    setBusy(true);
    try {
      client.setQueryData(profileQuery.queryKey, await confirmAge());
      await navigate(safeNextPath(params.get('next')), { replace: true });
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <AuthShell title="One more step" subtitle={`Atelier is for people aged ${minAge} and over.`} documentTitle="Confirm your age">
      <form className="auth-form" onSubmit={(e) => void onSubmit(e)} noValidate>
        <div className="auth-form__check">
          <label>
            <input type="checkbox" checked={checked} onChange={(e) => { setChecked(e.target.checked); setError(undefined); }} aria-invalid={error ? true : undefined} aria-describedby={error ? 'age-error' : undefined} />
            <span>I am at least {minAge} years old</span>
          </label>
          {error && (
            <p className="field__error" id="age-error">
              {error}
            </p>
          )}
        </div>
        <Button type="submit" variant="primary" size="lg" isBusy={isBusy} className="auth-form__submit">
          Continue to the studio
        </Button>
        <Button variant="ghost" onClick={() => signOut.mutate()}>
          Sign out
        </Button>
      </form>
    </AuthShell>
  );
}
