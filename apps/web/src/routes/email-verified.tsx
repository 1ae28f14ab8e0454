import { Link, useSearchParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { AlertIcon } from '#/components/ui/icons';
import { describeAuthRedirectError } from '#/features/auth/identity-api';
import { AuthShell } from './auth-shell';

/** Where the verification link lands (better-auth redirects here, with ?error=… when the link is refused). */
export function Component() {
  const [params] = useSearchParams();
  const error = params.get('error');
  const client = useQueryClient();
  useEffect(() => {
    if (!error) void client.invalidateQueries({ queryKey: ['me'] });
  }, [client, error]);
  if (error) {
    return (
      <AuthShell title="We couldn’t verify your e-mail" documentTitle="E-mail verification">
        <div className="auth-notice">
          <div className="auth-form__error" role="alert">
            <AlertIcon size={16} />
            <p>{describeAuthRedirectError(error)}</p>
          </div>
          <p>Sign in and use “Resend” on the banner to get a new link.</p>
          <Link to="/">Go to the studio</Link>
        </div>
      </AuthShell>
    );
  }
  return (
    <AuthShell title="E-mail verified" documentTitle="E-mail verified">
      <div className="auth-notice" role="status">
        <p>Thank you — your e-mail address is confirmed.</p>
        <Link to="/">Go to the studio</Link>
      </div>
    </AuthShell>
  );
}
