import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from 'react-router/dom';
import { ToastProvider } from '#/components/ui/toast';
import { meQuery } from '#/features/auth/api';
import { queryClient, setUnauthenticatedHandler } from '#/lib/query-client';
import { router } from '#/routes/router';
import './styles/tokens.css';
import './styles/base.css';

// A session that ends mid-use (expired, signed out in another tab) sends the user to sign in, then back here.
setUnauthenticatedHandler(() => {
  queryClient.setQueryData(meQuery.queryKey, null);
  const { pathname, search } = router.state.location;
  if (pathname === '/sign-in' || pathname === '/sign-up') return;
  const next = pathname + search;
  void router.navigate(next === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`, { replace: true });
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <RouterProvider router={router} />
      </ToastProvider>
    </QueryClientProvider>
  </StrictMode>,
);
