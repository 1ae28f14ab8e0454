import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Button } from '#/components/ui/button';
import { Field } from '#/components/ui/field';
import { Modal } from '#/components/ui/modal';
import { describeError, setReauthHandler } from '#/lib/api-client';
import { reauthenticate, securityStatusQuery } from '../api';
import { CodeField } from './two-factor-panel';
import './security.css';

/**
 * Sensitive actions (API keys, email change, account deletion) answer 403 `reauth_required` unless the
 * session signed in or re-authenticated in the last 5 minutes. While this host is mounted, such an
 * answer opens a dialog for the password (or a two-factor code); the request is then retried.
 */
export function ReauthHost() {
  const [pending, setPending] = useState<((ok: boolean) => void) | null>(null);
  useEffect(() => {
    setReauthHandler(() => new Promise<boolean>((resolve) => setPending(() => resolve)));
    return () => setReauthHandler(null);
  }, []);
  if (!pending) return null;
  const finish = (ok: boolean) => {
    pending(ok);
    setPending(null);
  };
  return <ReauthDialog onDone={() => finish(true)} onCancel={() => finish(false)} />;
}

function ReauthDialog({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const titleId = useId();
  const status = useQuery(securityStatusQuery);
  const canUseCode = status.data?.two_factor_enabled === true;
  const [useCode, setUseCode] = useState(false);
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string>();
  const [isBusy, setBusy] = useState(false);
  const isMounted = useRef(true);
  useEffect(() => () => void (isMounted.current = false), []);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!secret) return setError(useCode ? 'Enter the code from your app.' : 'Enter your password.');
    setBusy(true);
    try {
      await reauthenticate(useCode ? { code: secret } : { password: secret });
      onDone();
    } catch (e) {
      if (isMounted.current) setError(describeError(e));
    } finally {
      if (isMounted.current) setBusy(false);
    }
  };

  return (
    <Modal onClose={onCancel} labelledBy={titleId} dismissOnBackdrop={false}>
      <form className="security-dialog security-dialog--narrow" onSubmit={(e) => void onSubmit(e)} noValidate>
        <h2 className="security-dialog__title" id={titleId}>
          Confirm it’s you
        </h2>
        <p className="security-dialog__text">For your security, enter your {useCode ? 'two-factor code' : 'password'} again to continue.</p>
        {useCode ? (
          <CodeField value={secret} onChange={setSecret} error={error} autoFocus />
        ) : (
          <Field label="Password" error={error}>
            {({ id, describedBy, invalid }) => (
              <input id={id} className="input" type="password" autoComplete="current-password" value={secret} onChange={(e) => setSecret(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} autoFocus />
            )}
          </Field>
        )}
        {canUseCode && (
          <button
            type="button"
            className="security-link"
            onClick={() => {
              setUseCode((u) => !u);
              setSecret('');
              setError(undefined);
            }}
          >
            {useCode ? 'Use your password instead' : 'Use a code from your authenticator app instead'}
          </button>
        )}
        <div className="security-dialog__actions">
          <Button onClick={onCancel}>Cancel</Button>
          <Button type="submit" variant="primary" isBusy={isBusy}>
            Confirm
          </Button>
        </div>
      </form>
    </Modal>
  );
}
