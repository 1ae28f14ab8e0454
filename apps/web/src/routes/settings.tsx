import { useDocumentTitle } from '#/lib/use-document-title';
import { ApiKeysPanel } from '#/features/api-keys/components/api-keys-panel';
import { BillingCard } from '#/features/billing/components/billing-card';
import { ReauthHost } from '#/features/security/components/reauth-host';
import { SessionsPanel } from '#/features/security/components/sessions-panel';
import { TwoFactorPanel } from '#/features/security/components/two-factor-panel';
import { ConnectedAccountsPanel } from '#/features/profile/components/connected-accounts-panel';
import { ProfilePanel } from '#/features/profile/components/profile-panel';
import './settings.css';

export function Component() {
  useDocumentTitle('Settings');
  return (
    <div className="settings">
      <header className="settings__header">
        <h1 className="settings__title">Settings</h1>
        <p className="settings__subtitle">Your profile, how you sign in, and programmatic access to your studio.</p>
      </header>
      <ProfilePanel />
      <BillingCard />
      <ConnectedAccountsPanel />
      <TwoFactorPanel />
      <SessionsPanel />
      <ApiKeysPanel />
      <ReauthHost />
    </div>
  );
}
