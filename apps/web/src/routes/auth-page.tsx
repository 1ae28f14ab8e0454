import { useDocumentTitle } from '#/lib/use-document-title';
import { Logo } from '#/components/ui/logo';
import { ThemeToggle } from '#/components/ui/theme-toggle';
import { AuthForm } from '#/features/auth/components/auth-form';

const COPY = {
  'sign-in': { title: 'Welcome back', subtitle: 'Sign in to your studio.', document: 'Sign in' },
  'sign-up': { title: 'Create your studio', subtitle: 'An account keeps your images private to you.', document: 'Create account' },
} as const;

export function AuthPage({ mode }: { mode: 'sign-in' | 'sign-up' }) {
  const copy = COPY[mode];
  useDocumentTitle(copy.document);
  return (
    <main className="auth-page">
      <div className="auth-page__theme">
        <ThemeToggle />
      </div>
      <div className="auth-card">
        <div className="auth-card__brand">
          <Logo />
        </div>
        <h1 className="auth-card__title">{copy.title}</h1>
        <p className="auth-card__subtitle">{copy.subtitle}</p>
        <AuthForm key={mode} mode={mode} />
      </div>
    </main>
  );
}
