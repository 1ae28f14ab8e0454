import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Button } from '#/components/ui/button';
import { Field } from '#/components/ui/field';
import { AlertIcon } from '#/components/ui/icons';
import { describeAuthRedirectError, resetPassword } from '#/features/auth/identity-api';
import { describeError } from '#/lib/api-client';
import { AuthShell } from './auth-shell';

/** Where the mailed reset link lands: ?token=… to choose a new password, or ?error=… when the link is spent or expired. */
export function Component() {
  const [params] = useSearchParams();
  const token = params.get('token');
  const linkError = params.get('error');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [isBusy, setBusy] = useState(false);
  const [isDone, setDone] = useState(false);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (password.length < 8) return setError('use at least 8 characters');
    setBusy(true);
    setError(undefined);
    try {
      await resetPassword(token ?? '', password);
      setDone(true);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  if (!token || linkError) {
    return (
      <AuthShell title="This link can’t be used" documentTitle="Reset password">
        <div className="auth-notice">
          <div className="auth-form__error" role="alert">
            <AlertIcon size={16} />
            <p>{describeAuthRedirectError(linkError ?? 'INVALID_TOKEN')}</p>
          </div>
          <Link to="/forgot-password">Send a new reset link</Link>
        </div>
      </AuthShell>
    );
  }
  if (isDone) {
    return (
      <AuthShell title="Password changed" documentTitle="Reset password">
        <div className="auth-notice" role="status">
          <p>Your new password is set, and every other session was signed out.</p>
          <Link to="/sign-in">Sign in</Link>
        </div>
      </AuthShell>
    );
  }
  return (
    <AuthShell title="Choose a new password" subtitle="At least 8 characters. A few unrelated words make a strong one." documentTitle="Reset password">
      <form className="auth-form" onSubmit={(e) => void onSubmit(e)} noValidate>
        <Field label="New password" error={error}>
          {({ id, describedBy, invalid }) => (
            <input id={id} className="input" type="password" autoComplete="new-password" maxLength={1024} value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} autoFocus />
          )}
        </Field>
        <Button type="submit" variant="primary" size="lg" isBusy={isBusy} className="auth-form__submit">
          Set new password
        </Button>
      </form>
    </AuthShell>
  );
}
