import type { ReactNode } from 'react';
import { Logo } from '#/components/ui/logo';
import { ThemeToggle } from '#/components/ui/theme-toggle';
import { useDocumentTitle } from '#/lib/use-document-title';
import '#/features/auth/components/auth.css';

/** The card layout of the sign-in page, for the other account pages (reset, verification, age). */
export function AuthShell({ title, subtitle, documentTitle, children }: { title: string; subtitle?: ReactNode; documentTitle: string; children: ReactNode }) {
  useDocumentTitle(documentTitle);
  return (
    <main className="auth-page">
      <div className="auth-page__theme">
        <ThemeToggle />
      </div>
      <div className="auth-card">
        <div className="auth-card__brand">
          <Logo />
        </div>
        <h1 className="auth-card__title">{title}</h1>
        {subtitle && <p className="auth-card__subtitle">{subtitle}</p>}
        {children}
      </div>
    </main>
  );
}
