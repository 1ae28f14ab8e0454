import { createBrowserRouter, redirect, type LoaderFunctionArgs } from 'react-router';
import { meQuery } from '#/features/auth/api';
import { profileQuery } from '#/features/auth/identity-api';
import { queryClient } from '#/lib/query-client';
import { PageLoading, RouteError } from './route-fallbacks';

/** Signed-out visitors go to /sign-in, remembering where they were headed. */
async function requireUser({ request }: LoaderFunctionArgs) {
  const me = await queryClient.ensureQueryData(meQuery);
  if (!me) {
    const url = new URL(request.url);
    const next = url.pathname + url.search;
    throw redirect(next === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`);
  }
  // The age gate: people who signed up with a provider confirm once before using the studio.
  const profile = await queryClient.ensureQueryData(profileQuery);
  if (!profile.age_confirmed) {
    const url = new URL(request.url);
    throw redirect(`/confirm-age?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  return null;
}

async function redirectSignedIn() {
  const me = await queryClient.ensureQueryData(meQuery);
  if (me) throw redirect('/');
  return null;
}

export const router = createBrowserRouter([
  {
    id: 'root',
    ErrorBoundary: RouteError,
    HydrateFallback: PageLoading,
    children: [
      { path: 'sign-in', loader: redirectSignedIn, lazy: () => import('./sign-in') },
      { path: 'sign-up', loader: redirectSignedIn, lazy: () => import('./sign-up') },
      { path: 'sign-in/two-factor', loader: redirectSignedIn, lazy: () => import('#/features/security/components/two-factor-sign-in') },
      { path: 'forgot-password', lazy: () => import('./forgot-password') },
      { path: 'reset-password', lazy: () => import('./reset-password') },
      { path: 'email-verified', lazy: () => import('./email-verified') },
      { path: 'confirm-age', lazy: () => import('./confirm-age') },
      {
        id: 'app',
        loader: requireUser,
        lazy: () => import('./app-layout'),
        children: [
          {
            path: '/',
            lazy: () => import('./studio'),
            children: [{ path: 'images/:generationId', lazy: () => import('./image-detail') }],
          },
          { path: 'settings', lazy: () => import('./settings') },
          { path: 'billing', lazy: () => import('./billing') },
          { path: '*', lazy: () => import('./not-found') },
        ],
      },
    ],
  },
]);
