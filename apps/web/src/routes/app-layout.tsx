import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { VerifyBanner } from '#/features/auth/components/verify-banner';
import { Logo } from '#/components/ui/logo';
import { LogOutIcon } from '#/components/ui/icons';
import { Menu } from '#/components/ui/menu';
import { ThemeToggle } from '#/components/ui/theme-toggle';
import { useMe, useSignOut } from '#/features/auth/hooks/use-session';
import { BalanceChip } from '#/features/credits/components/balance-chip';
import { CoinIcon } from '#/features/credits/components/coin-icon';
import { useGenerationEvents, type LiveStatus } from '#/features/generations/hooks/use-generation-events';
import './app-layout.css';

const LIVE_LABEL: Record<LiveStatus, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };

export function Component() {
  const me = useMe();
  const signOut = useSignOut();
  const live = useGenerationEvents();
  const name = me.data?.name || me.data?.email || '';
  const { pathname } = useLocation();
  const navigate = useNavigate();
  // The detail view lives under the studio (it is a dialog over the grid), so both count as "Studio".
  const isStudio = pathname === '/' || pathname.startsWith('/images/');

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to="/" className="app-header__brand" aria-label="Atelier studio">
          <Logo />
        </Link>
        <nav className="app-nav" aria-label="Main">
          <NavLink to="/" className={() => `app-nav__link${isStudio ? ' app-nav__link--active' : ''}`} aria-current={isStudio ? 'page' : undefined}>
            Studio
          </NavLink>
          <NavLink to="/settings" className={({ isActive }) => `app-nav__link${isActive ? ' app-nav__link--active' : ''}`}>
            Settings
          </NavLink>
        </nav>
        <div className="app-header__end">
          <BalanceChip />
          <span className={`live-indicator live-indicator--${live}`} role="status" title={live === 'live' ? 'Updates arrive as they happen' : 'Live updates are reconnecting'}>
            <span className="live-indicator__dot" aria-hidden="true" />
            <span className="live-indicator__label">{LIVE_LABEL[live]}</span>
          </span>
          <ThemeToggle />
          <Menu
            label="Account"
            header={
              <div className="account-menu__who">
                <span className="account-menu__name">{me.data?.name}</span>
                <span className="account-menu__email">{me.data?.email}</span>
              </div>
            }
            items={[
              { key: 'billing', label: 'Billing & credits', icon: <CoinIcon size={15} />, onSelect: () => void navigate('/billing') },
              { key: 'sign-out', label: 'Sign out', icon: <LogOutIcon size={15} />, onSelect: () => signOut.mutate() },
            ]}
            trigger={(props) => (
              <button {...props} type="button" className="avatar-button" aria-label={`Account: ${name}`} title={name}>
                {(name[0] ?? '?').toUpperCase()}
              </button>
            )}
          />
        </div>
      </header>
      <VerifyBanner />
      <main id="main" className="app-main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
