import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { Button } from '#/components/ui/button';
import { AlertIcon } from '#/components/ui/icons';
import { Logo } from '#/components/ui/logo';
import { ThemeToggle } from '#/components/ui/theme-toggle';
import { describeError, isApiError } from '#/lib/api-client';
import { useDocumentTitle } from '#/lib/use-document-title';
import { meQuery } from '#/features/auth/api';
import { safeNextPath } from '#/features/auth/hooks/use-session';
import '#/features/auth/components/auth.css';
import { verifyRecoveryCode, verifyTotp } from '../api';
import { CodeField } from './two-factor-panel';
import './security.css';

/** The second sign-in step for accounts with two-factor authentication (/sign-in/two-factor), after the password. */
export function Component() {
  useDocumentTitle('Two-factor authentication');
  const navigate = useNavigate();
  const client = useQueryClient();
  const [params] = useSearchParams();
  const next = safeNextPath(params.get('next'));
  const [isRecovery, setRecovery] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();
  const [isExpired, setExpired] = useState(false);
  const [isBusy, setBusy] = useState(false);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!isRecovery && !/^\d{6}$/.test(code)) return setError('Enter the 6-digit code your app shows.');
    if (isRecovery && code.length < 6) return setError('Enter one of your recovery codes.');
    setBusy(true);
    setError(undefined);
    try {
      await (isRecovery ? verifyRecoveryCode(code) : verifyTotp(code));
      await client.fetchQuery({ ...meQuery, staleTime: 0 });
      await navigate(next, { replace: true });
    } catch (e) {
      const errorCode = isApiError(e) ? e.code : '';
      if (errorCode === 'INVALID_TWO_FACTOR_COOKIE' || errorCode === 'TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE') setExpired(true);
      else if (errorCode === 'INVALID_CODE' || errorCode === 'INVALID_BACKUP_CODE') setError(isRecovery ? 'That recovery code is not right, or was already used.' : 'That code is not right. Enter the newest code from your app.');
      else setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <div className="auth-page__theme">
        <ThemeToggle />
      </div>
      <div className="auth-card">
        <div className="auth-card__brand">
          <Logo />
        </div>
        <h1 className="auth-card__title">Two-factor authentication</h1>
        <p className="auth-card__subtitle">{isRecovery ? 'Enter one of the recovery codes you saved. Each works once.' : 'Enter the 6-digit code from your authenticator app.'}</p>
        {isExpired ? (
          <div className="auth-form">
            <div className="auth-form__error" role="alert">
              <AlertIcon size={16} />
              <p>This sign-in has expired or had too many wrong codes. Sign in again with your password.</p>
            </div>
            <Link className="btn btn--primary btn--md" to={`/sign-in?next=${encodeURIComponent(next)}`}>
              Back to sign in
            </Link>
          </div>
        ) : (
          <form className="auth-form" onSubmit={(e) => void onSubmit(e)} noValidate>
            <CodeField key={String(isRecovery)} value={code} onChange={setCode} error={error} label={isRecovery ? 'Recovery code' : 'Code'} autoFocus />
            <Button type="submit" variant="primary" size="lg" isBusy={isBusy}>
              Verify
            </Button>
            <button
              type="button"
              className="security-link"
              onClick={() => {
                setRecovery((r) => !r);
                setCode('');
                setError(undefined);
              }}
            >
              {isRecovery ? 'Use a code from your authenticator app' : 'Lost your phone? Use a recovery code'}
            </button>
            <p className="auth-form__switch">
              <Link to="/sign-in">Cancel and go back</Link>
            </p>
          </form>
        )}
      </div>
    </main>
  );
}
