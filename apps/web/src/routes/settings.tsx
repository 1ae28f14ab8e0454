import { useDocumentTitle } from '#/lib/use-document-title';
import { ApiKeysPanel } from '#/features/api-keys/components/api-keys-panel';
import './settings.css';

export function Component() {
  useDocumentTitle('API keys');
  return (
    <div className="settings">
      <header className="settings__header">
        <h1 className="settings__title">Settings</h1>
        <p className="settings__subtitle">Programmatic access to your studio.</p>
      </header>
      <ApiKeysPanel />
    </div>
  );
}
