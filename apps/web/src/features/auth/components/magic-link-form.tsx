import { useState, type FormEvent } from 'react';
import { z } from 'zod';
import { Button } from '#/components/ui/button';
import { Field } from '#/components/ui/field';
import { describeError } from '#/lib/api-client';
import { requestMagicLink } from '../identity-api';

const emailSchema = z.email('enter a valid email address');

/** Asks for a one-time sign-in link. The answer is the same whether or not the address has an account. */
export function MagicLinkForm({ next, initialEmail, onBack }: { next: string; initialEmail: string; onBack: () => void }) {
  const [email, setEmail] = useState(initialEmail);
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
      await requestMagicLink(parsed.data, next);
      setSentTo(parsed.data);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  if (sentTo) {
    return (
      <div className="auth-notice" role="status">
        <p>
          If an account uses <strong>{sentTo}</strong>, a sign-in link is on its way. It works once, for 10 minutes.
        </p>
        <Button variant="ghost" onClick={onBack}>
          Back to password sign-in
        </Button>
      </div>
    );
  }
  return (
    <form className="auth-form" onSubmit={(e) => void onSubmit(e)} noValidate>
      <Field label="Email" error={error} hint="We’ll e-mail you a link that signs you in — no password needed.">
        {({ id, describedBy, invalid }) => (
          <input id={id} className="input" type="email" autoComplete="username" inputMode="email" spellCheck={false} value={email} onChange={(e) => setEmail(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} autoFocus />
        )}
      </Field>
      <Button type="submit" variant="primary" size="lg" isBusy={isBusy} className="auth-form__submit">
        Email me a sign-in link
      </Button>
      <Button variant="ghost" onClick={onBack}>
        Use my password instead
      </Button>
    </form>
  );
}
