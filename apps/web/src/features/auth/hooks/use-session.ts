import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { resetGenerationCache } from '#/features/generations/cache';
import { resetDraft } from '#/features/generations/draft-store';
import { resetReferences } from '#/features/references/reference-store';
import { meQuery, signOut } from '../api';

export function useMe() {
  return useQuery(meQuery);
}

export function useSignOut() {
  const client = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: signOut,
    onSettled: async () => {
      // Whatever the server said, forget everything this user saw.
      client.clear();
      resetDraft();
      resetReferences();
      resetGenerationCache();
      client.setQueryData(meQuery.queryKey, null);
      await navigate('/sign-in', { replace: true });
    },
  });
}

/** Only same-site paths may be redirect targets, never "//evil.example". */
export function safeNextPath(value: string | null): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return value;
}
