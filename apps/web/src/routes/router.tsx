import { createBrowserRouter, redirect, type LoaderFunctionArgs } from 'react-router';
import { meQuery } from '#/features/auth/api';
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
          { path: '*', lazy: () => import('./not-found') },
        ],
      },
    ],
  },
]);
