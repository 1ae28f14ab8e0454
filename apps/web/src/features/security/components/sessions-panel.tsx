import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { SessionInfo } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { ConfirmDialog } from '#/components/ui/confirm-dialog';
import { AlertIcon, MonitorIcon } from '#/components/ui/icons';
import { useToast } from '#/components/ui/toast';
import { describeError } from '#/lib/api-client';
import { formatDateTime, formatRelative } from '#/lib/format';
import { revokeOtherSessions, revokeSession, sessionsQuery } from '../api';
import { describePlace } from '../session-place';
import './security.css';

const PhoneIcon = () => (
  <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round">
    <rect x="7" y="3" width="10" height="18" rx="2" />
    <path d="M11 18h2" />
  </svg>
);

const describe = (s: SessionInfo) => [s.browser ?? 'Unknown browser', s.os].filter(Boolean).join(' on ');

/** Where the account is signed in; any session but this one can be signed out. */
export function SessionsPanel() {
  const sessions = useQuery(sessionsQuery);
  const client = useQueryClient();
  const toast = useToast();
  const [toRevoke, setToRevoke] = useState<SessionInfo | 'others' | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: sessionsQuery.queryKey });
  const revokeOne = useMutation({ mutationFn: revokeSession, onSuccess: refresh });
  const revokeOthers = useMutation({ mutationFn: revokeOtherSessions, onSuccess: refresh });
  const others = sessions.data?.filter((s) => !s.current) ?? [];

  const confirm = () => {
    if (!toRevoke) return;
    const done = { onError: (e: unknown) => toast.error('Could not sign out', describeError(e)), onSettled: () => setToRevoke(null) };
    if (toRevoke === 'others') revokeOthers.mutate(undefined, { ...done, onSuccess: ({ revoked }) => toast.success(`Signed out ${revoked} other session${revoked === 1 ? '' : 's'}`) });
    else revokeOne.mutate(toRevoke.id, { ...done, onSuccess: () => toast.success(`Signed out ${describe(toRevoke)}`) });
  };

  return (
    <section className="settings-card" aria-labelledby="sessions-title">
      <header className="settings-card__header security-card__header">
        <div>
          <h2 id="sessions-title" className="settings-card__title">
            Sessions
          </h2>
          <p className="settings-card__text">Devices signed in to your account. Sign out any you don’t recognise, then change your password.</p>
        </div>
        {others.length > 0 && (
          <Button size="sm" onClick={() => setToRevoke('others')}>
            Sign out all others
          </Button>
        )}
      </header>
      {sessions.isPending ? (
        <div className="skeleton sessions-skeleton" aria-label="Loading sessions" />
      ) : sessions.isError ? (
        <div className="inline-error" role="alert">
          <AlertIcon size={16} />
          <span>Could not load your sessions: {describeError(sessions.error)}</span>
          <Button size="sm" onClick={() => void sessions.refetch()}>
            Retry
          </Button>
        </div>
      ) : (
        <ul className="sessions-list">
          {sessions.data.map((s) => (
            <li key={s.id} className="session-row" data-testid="session-row">
              <span className="session-row__icon" aria-hidden="true">
                {s.device === 'mobile' || s.device === 'tablet' ? <PhoneIcon /> : <MonitorIcon size={18} />}
              </span>
              <div className="session-row__main">
                <p className="session-row__title">
                  {describe(s)}
                  {s.device === 'mobile' || s.device === 'tablet' ? <span className="muted"> · {s.device}</span> : null}
                  {s.current && <span className="security-badge security-badge--on">This device</span>}
                </p>
                <p className="session-row__meta">
                  {describePlace(s)} · signed in <time dateTime={s.created_at} title={formatDateTime(s.created_at)}>{formatRelative(s.created_at)}</time>
                  {!s.current && (
                    <>
                      {' '}
                      · last seen <time dateTime={s.last_seen_at} title={formatDateTime(s.last_seen_at)}>{formatRelative(s.last_seen_at)}</time>
                    </>
                  )}
                </p>
              </div>
              {!s.current && (
                <Button size="sm" variant="danger" onClick={() => setToRevoke(s)} aria-label={`Sign out ${describe(s)}`}>
                  Sign out
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      {toRevoke && (
        <ConfirmDialog
          title={toRevoke === 'others' ? 'Sign out every other session?' : `Sign out ${describe(toRevoke)}?`}
          confirmLabel="Sign out"
          isBusy={revokeOne.isPending || revokeOthers.isPending}
          onConfirm={confirm}
          onCancel={() => setToRevoke(null)}
        >
          <p>{toRevoke === 'others' ? 'Every device but this one will have to sign in again.' : 'That device will have to sign in again.'}</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
