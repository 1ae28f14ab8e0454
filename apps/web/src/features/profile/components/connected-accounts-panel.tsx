import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button } from '#/components/ui/button';
import { AlertIcon } from '#/components/ui/icons';
import { useToast } from '#/components/ui/toast';
import { authProvidersQuery, describeAuthRedirectError, profileQuery, startLinkSocial, unlinkAccount } from '#/features/auth/identity-api';
import { describeError } from '#/lib/api-client';

/**
 * Third-party identities connected to this account. Connecting happens only here, while signed in: a
 * provider sign-in never joins an existing account on its own. The last way to sign in cannot be removed.
 */
export function ConnectedAccountsPanel() {
  const providers = useQuery(authProvidersQuery).data?.social ?? [];
  const profile = useQuery(profileQuery).data;
  const client = useQueryClient();
  const toast = useToast();
  const [params] = useSearchParams();
  const [busy, setBusy] = useState<string | null>(null);
  const linkError = params.get('error');
  if (!profile || providers.length === 0) return null;
  const methods = profile.sign_in_methods;
  const isLast = methods.length <= 1;

  const connect = (id: string) => {
    setBusy(id);
    startLinkSocial(id).catch((error: unknown) => {
      setBusy(null);
      toast.error('Could not connect', describeError(error));
    });
  };
  const disconnect = async (id: string, name: string) => {
    setBusy(id);
    try {
      await unlinkAccount(id);
      await client.invalidateQueries({ queryKey: profileQuery.queryKey });
      toast.success(`${name} disconnected`);
    } catch (error) {
      toast.error('Could not disconnect', describeError(error));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="settings-card" aria-labelledby="connected-title">
      <header className="settings-card__header">
        <div>
          <h2 id="connected-title" className="settings-card__title">
            Connected accounts
          </h2>
          <p className="settings-card__text">Sign in with another service as well as {methods.includes('credential') ? 'your password' : 'e-mail links'}. Only your name, e-mail and picture are taken from it.</p>
        </div>
      </header>
      {linkError && (
        <div className="inline-error" role="alert">
          <AlertIcon size={16} />
          <span>{describeAuthRedirectError(linkError)}</span>
        </div>
      )}
      <ul className="connected-list">
        {providers.map((p) => {
          const isConnected = methods.includes(p.id);
          return (
            <li key={p.id} className="connected-list__item">
              <span className="connected-list__name">{p.name}</span>
              <span className={`connected-list__state${isConnected ? ' connected-list__state--on' : ''}`}>{isConnected ? 'Connected' : 'Not connected'}</span>
              {isConnected ? (
                <Button size="sm" variant="ghost" isBusy={busy === p.id} disabled={isLast} title={isLast ? 'This is your only way to sign in: set a password or connect another service first.' : undefined} onClick={() => void disconnect(p.id, p.name)}>
                  Disconnect
                </Button>
              ) : (
                <Button size="sm" isBusy={busy === p.id} onClick={() => connect(p.id)}>
                  Connect
                </Button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
