import { useId, useState, type FormEvent } from 'react';
import { API_KEY_EXPIRY_DAYS, API_KEY_SCOPES, createApiKeySchema, type ApiKey, type ApiKeyScope } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { ConfirmDialog } from '#/components/ui/confirm-dialog';
import { Field } from '#/components/ui/field';
import { AlertIcon, CheckIcon, CopyIcon, KeyIcon, PlusIcon } from '#/components/ui/icons';
import { Modal } from '#/components/ui/modal';
import { useToast } from '#/components/ui/toast';
import { describeError, isApiError } from '#/lib/api-client';
import { copyText } from '#/lib/clipboard';
import { formatDate, formatDateTime, formatRelative } from '#/lib/format';
import { useApiKeys, useCreateApiKey, useRevokeApiKey } from '../hooks/use-api-keys';
import './api-keys.css';

const SCOPE_LABELS: Record<ApiKeyScope, { label: string; hint: string }> = {
  read: { label: 'Read', hint: 'list and download generations, images, uploads, models' },
  generate: { label: 'Generate', hint: 'create and cancel generations, upload references, organise' },
  manage: { label: 'Delete', hint: 'delete generations, uploads, collections and kits' },
};
const DEFAULT_EXPIRY_DAYS = 90;

function expiryText(key: ApiKey): { text: string; isExpired: boolean } {
  if (!key.expires_at) return { text: 'Never', isExpired: false };
  const isExpired = Date.parse(key.expires_at) <= Date.now();
  const isSoon = Date.parse(key.expires_at) - Date.now() < 7 * 86_400_000;
  return { text: isExpired ? `Expired ${formatDate(key.expires_at)}` : isSoon ? formatRelative(key.expires_at) : formatDate(key.expires_at), isExpired };
}

export function ApiKeysPanel() {
  const keys = useApiKeys();
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();
  const toast = useToast();
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string>();
  const [scopes, setScopes] = useState<ApiKeyScope[]>(['read', 'generate']);
  const [scopesError, setScopesError] = useState<string>();
  const [expiryDays, setExpiryDays] = useState<number | null>(DEFAULT_EXPIRY_DAYS);
  const toggleScope = (scope: ApiKeyScope, isOn: boolean) => {
    setScopes((current) => API_KEY_SCOPES.filter((s) => (s === scope ? isOn : current.includes(s))));
    setScopesError(undefined);
  };
  const [toRevoke, setToRevoke] = useState<ApiKey | null>(null);

  const onCreate = (event: FormEvent) => {
    event.preventDefault();
    const parsed = createApiKeySchema.safeParse({ name, scopes, expires_in_days: expiryDays });
    if (!parsed.success) {
      setNameError(parsed.error.issues.find((i) => i.path[0] === 'name')?.message);
      setScopesError(parsed.error.issues.find((i) => i.path[0] === 'scopes')?.message);
      return;
    }
    setNameError(undefined);
    setScopesError(undefined);
    create.mutate(parsed.data, {
      onSuccess: () => setName(''),
      onError: (error) => {
        const field = isApiError(error) ? error.fieldMessage('name') : undefined;
        if (field) setNameError(field);
        else toast.error('Could not create the key', describeError(error));
      },
    });
  };

  const confirmRevoke = () => {
    if (!toRevoke) return;
    revoke.mutate(toRevoke.id, {
      onSuccess: () => toast.success(`Key “${toRevoke.name}” revoked`),
      onError: (error) => toast.error('Could not revoke the key', describeError(error)),
      onSettled: () => setToRevoke(null),
    });
  };

  return (
    <section className="settings-card" aria-labelledby="api-keys-title">
      <header className="settings-card__header">
        <div>
          <h2 id="api-keys-title" className="settings-card__title">
            API keys
          </h2>
          <p className="settings-card__text">
            Keys let scripts and apps use your account through the API, limited to the scopes you give them. Give each key only what it needs, let it expire, and revoke any key you no longer use.{' '}
            <a href="/docs" target="_blank" rel="noreferrer">
              API reference
            </a>
          </p>
        </div>
      </header>

      <form className="api-key-form" onSubmit={onCreate} noValidate>
        <Field label="New key name" error={nameError} className="api-key-form__field">
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              className="input"
              placeholder="e.g. Laptop script, CI pipeline"
              maxLength={100}
              value={name}
              aria-describedby={describedBy}
              aria-invalid={invalid || undefined}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <fieldset className="api-key-form__scopes" aria-describedby={scopesError ? 'api-key-scopes-error' : undefined}>
          <legend className="field__label">Allowed to</legend>
          {API_KEY_SCOPES.map((scope) => (
            <label key={scope} className="api-key-scope">
              <input type="checkbox" checked={scopes.includes(scope)} onChange={(e) => toggleScope(scope, e.target.checked)} aria-invalid={scopesError ? true : undefined} />
              <span>
                <span className="api-key-scope__label">{SCOPE_LABELS[scope].label}</span>
                <span className="api-key-scope__hint">{SCOPE_LABELS[scope].hint}</span>
              </span>
            </label>
          ))}
          {scopesError && (
            <p className="field__error" id="api-key-scopes-error">
              {scopesError}
            </p>
          )}
        </fieldset>
        <div className="api-key-form__row">
          <Field label="Expires" className="api-key-form__expiry">
            {({ id }) => (
              <select id={id} className="input" value={expiryDays ?? 'never'} onChange={(e) => setExpiryDays(e.target.value === 'never' ? null : Number(e.target.value))}>
                {API_KEY_EXPIRY_DAYS.map((days) => (
                  <option key={days} value={days}>
                    in {days} days
                  </option>
                ))}
                <option value="never">never</option>
              </select>
            )}
          </Field>
          <Button type="submit" variant="primary" icon={<PlusIcon size={16} />} isBusy={create.isPending}>
            Create key
          </Button>
        </div>
      </form>

      {keys.isPending ? (
        <div className="skeleton api-keys-skeleton" aria-label="Loading keys" />
      ) : keys.isError ? (
        <div className="inline-error" role="alert">
          <AlertIcon size={16} />
          <span>Could not load your keys: {describeError(keys.error)}</span>
          <Button size="sm" onClick={() => void keys.refetch()}>
            Retry
          </Button>
        </div>
      ) : keys.data.length === 0 ? (
        <div className="api-keys-empty">
          <KeyIcon size={20} />
          <p>No API keys yet.</p>
        </div>
      ) : (
        <div className="api-keys-table-wrap">
          <table className="api-keys-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((key) => (
                <tr key={key.id}>
                  <td className="api-keys-table__name">{key.name}</td>
                  <td>
                    <code className="api-keys-table__prefix">{key.prefix}…</code>
                  </td>
                  <td className="api-keys-table__scopes">
                    <span className="api-key-scopes">
                      {key.scopes.map((scope) => (
                        <span key={scope} className="api-key-scopes__chip" title={SCOPE_LABELS[scope].hint}>
                          {SCOPE_LABELS[scope].label}
                        </span>
                      ))}
                    </span>
                  </td>
                  <td>
                    <time dateTime={key.created_at} title={formatDateTime(key.created_at)}>
                      {formatRelative(key.created_at)}
                    </time>
                  </td>
                  <td>
                    {key.expires_at ? (
                      <time dateTime={key.expires_at} title={formatDateTime(key.expires_at)} className={expiryText(key).isExpired ? 'api-keys-table__expired' : undefined}>
                        {expiryText(key).text}
                      </time>
                    ) : (
                      <span className="muted">Never</span>
                    )}
                  </td>
                  <td>{key.last_used_at ? <time dateTime={key.last_used_at}>{formatRelative(key.last_used_at)}</time> : <span className="muted">Never</span>}</td>
                  <td className="api-keys-table__actions">
                    <Button size="sm" variant="danger" onClick={() => setToRevoke(key)} aria-label={`Revoke ${key.name}`}>
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {create.data && <SecretDialog name={create.data.name} secret={create.data.key} onDone={() => create.reset()} />}
      {toRevoke && (
        <ConfirmDialog title={`Revoke “${toRevoke.name}”?`} confirmLabel="Revoke key" isBusy={revoke.isPending} onConfirm={confirmRevoke} onCancel={() => setToRevoke(null)}>
          <p>Anything using this key stops working immediately. This can’t be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function SecretDialog({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const titleId = useId();
  const toast = useToast();
  const [isCopied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await copyText(secret);
      setCopied(true);
    } catch (error) {
      toast.error('Could not copy the key', describeError(error));
    }
  };
  return (
    // No backdrop dismiss: closing loses the secret forever, so it takes a deliberate click.
    <Modal onClose={onDone} labelledBy={titleId} dismissOnBackdrop={false}>
      <div className="secret-dialog">
        <h2 id={titleId} className="confirm__title">
          Your new key “{name}”
        </h2>
        <p className="secret-dialog__warning">
          <AlertIcon size={16} />
          <span>Copy it now. This is the only time it is shown: once you close this, it can’t be retrieved.</span>
        </p>
        <div className="secret-dialog__value">
          <input className="input mono" readOnly value={secret} aria-label="API key" onFocus={(e) => e.currentTarget.select()} />
          <Button variant="primary" icon={isCopied ? <CheckIcon size={16} /> : <CopyIcon size={16} />} onClick={() => void copy()}>
            {isCopied ? 'Copied' : 'Copy'}
          </Button>
        </div>
        <details className="secret-dialog__usage">
          <summary>How to use it</summary>
          <p>Send it as a bearer token to the public API under <code>/v1</code>, for example:</p>
          <pre className="secret-dialog__snippet">
            <code>{curlExample()}</code>
          </pre>
        </details>
        <div className="confirm__actions">
          <Button onClick={onDone}>{isCopied ? 'Done' : 'I’ve stored it'}</Button>
        </div>
      </div>
    </Modal>
  );
}

function curlExample(): string {
  return [
    `curl ${window.location.origin}/v1/generations \\`,
    `  -H "Authorization: Bearer $ATELIER_API_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"model": "<model id>", "prompt": "a lighthouse at dawn"}'`,
  ].join('\n');
}
