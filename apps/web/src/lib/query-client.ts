import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { isApiError } from './api-client';

type Handler = () => void;
let onUnauthenticated: Handler = () => {};

/** Registered by main.tsx once the router exists: a 401 from any request sends the user to /sign-in. */
export function setUnauthenticatedHandler(handler: Handler): void {
  onUnauthenticated = handler;
}

function handle401(error: unknown): void {
  if (isApiError(error) && error.status === 401 && error.code === 'unauthenticated') onUnauthenticated();
}

export const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: handle401 }),
  mutationCache: new MutationCache({ onError: handle401 }),
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      // Live updates arrive over SSE, so refetching on focus only costs requests.
      refetchOnWindowFocus: false,
      retry: (failures, error) => {
        if (isApiError(error) && error.status > 0 && error.status < 500) return false;
        return failures < 2;
      },
    },
    mutations: { retry: false },
  },
});
