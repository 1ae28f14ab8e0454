import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { z } from 'zod';
import { Button } from '#/components/ui/button';
import { Field } from '#/components/ui/field';
import { requestPasswordReset } from '#/features/auth/identity-api';
import { describeError } from '#/lib/api-client';
import { AuthShell } from './auth-shell';

const emailSchema = z.email('enter a valid email address');

export function Component() {
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string>();
  const [isBusy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = emailSchema.safeParse(email.trim());
    if (!parsed.success) return setError(parsed.error.issues[0]?.message);
    setBusy(true);
    setError(undefined);
    try {
      await requestPasswordReset(parsed.data);
      setSentTo(parsed.data);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthShell title="Reset your password" subtitle="We’ll e-mail you a link to choose a new one." documentTitle="Reset password">
      {sentTo ? (
        <div className="auth-notice" role="status">
          <p>
            If an account uses <strong>{sentTo}</strong>, a reset link is on its way. It works once, for an hour. Check your spam folder if nothing arrives.
          </p>
          <Link to="/sign-in">Back to sign-in</Link>
        </div>
      ) : (
        <form className="auth-form" onSubmit={(e) => void onSubmit(e)} noValidate>
          <Field label="Email" error={error}>
            {({ id, describedBy, invalid }) => (
              <input id={id} className="input" type="email" autoComplete="username" inputMode="email" spellCheck={false} value={email} onChange={(e) => setEmail(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} autoFocus />
            )}
          </Field>
          <Button type="submit" variant="primary" size="lg" isBusy={isBusy} className="auth-form__submit">
            Send reset link
          </Button>
          <p className="auth-form__switch">
            Remembered it? <Link to="/sign-in">Sign in</Link>
          </p>
        </form>
      )}
    </AuthShell>
  );
}
