import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button } from '#/components/ui/button';
import { Field } from '#/components/ui/field';
import { AlertIcon, CheckIcon } from '#/components/ui/icons';
import { Modal } from '#/components/ui/modal';
import { useToast } from '#/components/ui/toast';
import { describeError } from '#/lib/api-client';
import { disableTwoFactor, manualEntryKey, regenerateRecoveryCodes, securityStatusQuery, sessionsQuery, startTwoFactor, verifyTotp } from '../api';
import { QrCode } from './qr-code';
import { RecoveryCodes } from './recovery-codes';
import './security.css';

type Dialog = 'enable' | 'disable' | 'codes' | null;

export function TwoFactorPanel() {
  const status = useQuery(securityStatusQuery);
  const [dialog, setDialog] = useState<Dialog>(null);
  const isOn = status.data?.two_factor_enabled === true;
  return (
    <section className="settings-card" aria-labelledby="two-factor-title">
      <header className="settings-card__header security-card__header">
        <div>
          <h2 id="two-factor-title" className="settings-card__title">
            Two-factor authentication{' '}
            {status.data && <span className={`security-badge${isOn ? ' security-badge--on' : ''}`}>{isOn ? 'On' : 'Off'}</span>}
          </h2>
          <p className="settings-card__text">
            {isOn
              ? 'Signing in asks for a code from your authenticator app after your password. Keep your recovery codes somewhere safe.'
              : 'Protect your account with a code from an authenticator app (1Password, Google Authenticator, Aegis…) on top of your password.'}
          </p>
        </div>
      </header>
      {status.isError ? (
        <div className="inline-error" role="alert">
          <AlertIcon size={16} />
          <span>Could not load your security settings: {describeError(status.error)}</span>
        </div>
      ) : status.data && !status.data.has_password ? (
        <p className="settings-card__text">Two-factor authentication protects password sign-in. Your account signs in through a connected provider; turn on two-factor authentication there.</p>
      ) : (
        status.data && (
          <div className="security-actions">
            {isOn ? (
              <>
                <Button onClick={() => setDialog('codes')}>New recovery codes</Button>
                <Button variant="danger" onClick={() => setDialog('disable')}>
                  Turn off
                </Button>
              </>
            ) : (
              <Button variant="primary" onClick={() => setDialog('enable')}>
                Turn on two-factor authentication
              </Button>
            )}
          </div>
        )
      )}
      {dialog === 'enable' && <EnableDialog onClose={() => setDialog(null)} />}
      {dialog === 'disable' && <DisableDialog onClose={() => setDialog(null)} />}
      {dialog === 'codes' && <RegenerateDialog onClose={() => setDialog(null)} />}
    </section>
  );
}

function DialogFrame({ title, children, onClose }: { title: string; children: ReactNode; onClose: () => void }) {
  const titleId = useId();
  return (
    <Modal onClose={onClose} labelledBy={titleId} dismissOnBackdrop={false}>
      <div className="security-dialog">
        <h2 className="security-dialog__title" id={titleId}>
          {title}
        </h2>
        {children}
      </div>
    </Modal>
  );
}

function PasswordField({ value, onChange, error, autoFocus = false }: { value: string; onChange: (v: string) => void; error?: string | undefined; autoFocus?: boolean }) {
  return (
    <Field label="Password" error={error}>
      {({ id, describedBy, invalid }) => (
        <input id={id} className="input" type="password" autoComplete="current-password" value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={describedBy} aria-invalid={invalid || undefined} autoFocus={autoFocus} />
      )}
    </Field>
  );
}

export function CodeField({ value, onChange, error, label = 'Code from your authenticator app', hint, autoFocus = false }: { value: string; onChange: (v: string) => void; error?: string | undefined; label?: string; hint?: ReactNode; autoFocus?: boolean }) {
  return (
    <Field label={label} error={error} hint={hint}>
      {({ id, describedBy, invalid }) => (
        <input
          id={id}
          className="input security-code-input"
          inputMode="numeric"
          autoComplete="one-time-code"
          placeholder="123456"
          maxLength={32}
          spellCheck={false}
          value={value}
          onChange={(e) => onChange(e.target.value.trim())}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          autoFocus={autoFocus}
        />
      )}
    </Field>
  );
}

function useRefreshSecurity() {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: securityStatusQuery.queryKey });
    void client.invalidateQueries({ queryKey: sessionsQuery.queryKey });
  };
}

/** Password → scan the QR code (or type the key) → confirm with a code → save the recovery codes. */
function EnableDialog({ onClose }: { onClose: () => void }) {
  const refresh = useRefreshSecurity();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();
  const start = useMutation({ mutationFn: startTwoFactor, onError: (e) => setError(describeError(e)) });
  const confirm = useMutation({ mutationFn: verifyTotp, onSuccess: refresh, onError: () => setError('That code is not right. Check the time on your phone and enter the newest code.') });

  if (start.data && confirm.isSuccess) {
    return (
      <DialogFrame title="Save your recovery codes" onClose={onClose}>
        <p className="security-dialog__success">
          <CheckIcon size={16} /> Two-factor authentication is on.
        </p>
        <p className="security-dialog__text">If you lose your phone, each of these codes signs you in once. They are shown only now: copy or download them and keep them somewhere safe.</p>
        <RecoveryCodes codes={start.data.backupCodes} />
        <div className="security-dialog__actions">
          <Button variant="primary" onClick={onClose}>
            I have saved them
          </Button>
        </div>
      </DialogFrame>
    );
  }
  if (start.data) {
    const onConfirm = (event: FormEvent) => {
      event.preventDefault();
      if (!/^\d{6}$/.test(code)) return setError('Enter the 6-digit code your app shows.');
      setError(undefined);
      confirm.mutate(code);
    };
    return (
      <DialogFrame title="Scan with your authenticator app" onClose={onClose}>
        <form className="security-dialog__form" onSubmit={onConfirm} noValidate>
          <div className="totp-setup">
            <QrCode value={start.data.totpURI} label="QR code to add Atelier to your authenticator app" />
            <div className="totp-setup__manual">
              <p className="security-dialog__text">Scan the code, or type this key into the app (time-based, 6 digits):</p>
              <code className="totp-setup__key" data-testid="totp-secret">
                {manualEntryKey(start.data.totpURI)}
              </code>
            </div>
          </div>
          <CodeField value={code} onChange={setCode} error={error} hint="Enter the code the app shows to finish." autoFocus />
          <div className="security-dialog__actions">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" isBusy={confirm.isPending}>
              Turn on
            </Button>
          </div>
        </form>
      </DialogFrame>
    );
  }
  return (
    <DialogFrame title="Turn on two-factor authentication" onClose={onClose}>
      <form
        className="security-dialog__form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!password) return setError('Enter your password.');
          setError(undefined);
          start.mutate(password);
        }}
        noValidate
      >
        <p className="security-dialog__text">Confirm your password to start. You will need an authenticator app on your phone or computer.</p>
        <PasswordField value={password} onChange={setPassword} error={error} autoFocus />
        <div className="security-dialog__actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" isBusy={start.isPending}>
            Continue
          </Button>
        </div>
      </form>
    </DialogFrame>
  );
}

function DisableDialog({ onClose }: { onClose: () => void }) {
  const refresh = useRefreshSecurity();
  const toast = useToast();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();
  const disable = useMutation({
    mutationFn: disableTwoFactor,
    onSuccess: () => {
      refresh();
      toast.success('Two-factor authentication is off');
      onClose();
    },
    onError: (e) => setError(describeError(e) === 'Invalid code' ? 'That code is not right (or was already used).' : describeError(e)),
  });
  return (
    <DialogFrame title="Turn off two-factor authentication?" onClose={onClose}>
      <form
        className="security-dialog__form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!password || !code) return setError('Enter your password and a code.');
          setError(undefined);
          disable.mutate({ password, code });
        }}
        noValidate
      >
        <p className="security-dialog__text">Your account will be protected by your password alone. Confirm with your password and a code from your app (or a recovery code).</p>
        <PasswordField value={password} onChange={setPassword} autoFocus />
        <CodeField value={code} onChange={setCode} label="Code or recovery code" />
        {error && (
          <p className="field__error" role="alert">
            {error}
          </p>
        )}
        <div className="security-dialog__actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="danger" isBusy={disable.isPending}>
            Turn off
          </Button>
        </div>
      </form>
    </DialogFrame>
  );
}

function RegenerateDialog({ onClose }: { onClose: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const regenerate = useMutation({ mutationFn: regenerateRecoveryCodes, onError: (e) => setError(describeError(e)) });
  if (regenerate.data) {
    return (
      <DialogFrame title="Your new recovery codes" onClose={onClose}>
        <p className="security-dialog__text">Your old recovery codes no longer work. These are shown only now.</p>
        <RecoveryCodes codes={regenerate.data.backupCodes} />
        <div className="security-dialog__actions">
          <Button variant="primary" onClick={onClose}>
            I have saved them
          </Button>
        </div>
      </DialogFrame>
    );
  }
  return (
    <DialogFrame title="Create new recovery codes?" onClose={onClose}>
      <form
        className="security-dialog__form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!password) return setError('Enter your password.');
          setError(undefined);
          regenerate.mutate(password);
        }}
        noValidate
      >
        <p className="security-dialog__text">New codes replace the old ones, which stop working.</p>
        <PasswordField value={password} onChange={setPassword} error={error} autoFocus />
        <div className="security-dialog__actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" isBusy={regenerate.isPending}>
            Create new codes
          </Button>
        </div>
      </form>
    </DialogFrame>
  );
}
