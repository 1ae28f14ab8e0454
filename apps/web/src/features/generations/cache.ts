import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import type { Generation, GenerationPage, GenerationVersions } from '@atelier/contracts';
import { generationKeys, listGenerations } from './api';

/**
 * The generation list and detail caches are fed from three sources that can arrive in any order:
 * HTTP responses (list pages, POST/cancel answers), and `generation.updated` SSE events.
 * Statuses only move forward (queued → running → terminal), so whichever copy is further along wins.
 */
export type GenerationPages = InfiniteData<GenerationPage, string | null>;

const STAGE: Record<Generation['status'], number> = { queued: 0, running: 1, succeeded: 2, failed: 2, canceled: 2, blocked: 2 };

/** True when `incoming` is at least as far along as `current`, so it may replace it. */
export function isNotOlder(current: Generation, incoming: Generation): boolean {
  const a = STAGE[current.status];
  const b = STAGE[incoming.status];
  if (a !== b) return b > a;
  if (incoming.status === 'running' && current.status === 'running') return (incoming.progress ?? -1) >= (current.progress ?? -1);
  return true;
}

function newer(current: Generation | undefined, incoming: Generation): Generation {
  return current && !isNotOlder(current, incoming) ? current : incoming;
}

// What pushes and mutations told us recently. A list request that was already in flight when an event
// arrived answers with older state; its result is overlaid with these before it reaches the cache.
const recent = new Map<string, Generation>();
const deleted = new Set<string>();
const RECENT_LIMIT = 500;

function remember(generation: Generation): void {
  recent.delete(generation.id);
  recent.set(generation.id, generation);
  if (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value!);
}

/** Applied to every fetched page: drops deleted generations, keeps the freshest copy of each. */
export function reconcilePage(page: GenerationPage): GenerationPage {
  return {
    ...page,
    data: page.data.filter((g) => !deleted.has(g.id)).map((g) => newer(g, recent.get(g.id) ?? g)),
  };
}

export function reconcileOne(generation: Generation): Generation {
  return newer(generation, recent.get(generation.id) ?? generation);
}

/** Puts a generation into the detail cache and the list (in place, or at the top when new). */
export function upsertGeneration(client: QueryClient, generation: Generation): void {
  if (deleted.has(generation.id)) return;
  remember(generation);
  client.setQueryData<Generation>(generationKeys.detail(generation.id), (old) => newer(old, generation));
  client.setQueryData<GenerationPages>(generationKeys.list(), (data) => {
    if (!data) return data;
    let found = false;
    const pages = data.pages.map((page) => {
      const index = page.data.findIndex((g) => g.id === generation.id);
      if (index === -1) return page;
      found = true;
      const current = page.data[index]!;
      if (!isNotOlder(current, generation)) return page;
      const next = page.data.slice();
      next[index] = generation;
      return { ...page, data: next };
    });
    if (!found && pages[0]) {
      // New to this tab (created here, in another tab, or through the API): it is the newest, so it goes first.
      const first = pages[0].data.slice();
      const at = first.findIndex((g) => g.created_at < generation.created_at);
      first.splice(at === -1 ? first.length : at, 0, generation);
      pages[0] = { ...pages[0], data: first };
    }
    return { ...data, pages };
  });
  client.setQueriesData<GenerationVersions>({ queryKey: ['generations', 'versions'] }, (data) => data && mergeVersion(data, generation));
}

/**
 * Keeps open version graphs live: a known version is updated in place, and a new generation whose parent
 * is in the graph (a refinement made just now, here or elsewhere) joins it with its edge.
 */
export function mergeVersion(data: GenerationVersions, generation: Generation): GenerationVersions {
  const index = data.data.findIndex((g) => g.id === generation.id);
  if (index !== -1) {
    if (!isNotOlder(data.data[index]!, generation)) return data;
    const next = data.data.slice();
    next[index] = generation;
    return { ...data, data: next };
  }
  const parent = generation.parent_id;
  if (!parent || !data.data.some((g) => g.id === parent)) return data;
  return { data: [...data.data, generation], edges: [...data.edges, { parent, child: generation.id }] };
}

export function removeGeneration(client: QueryClient, id: string): void {
  deleted.add(id);
  recent.delete(id);
  client.setQueryData<GenerationPages>(generationKeys.list(), (data) =>
    data && { ...data, pages: data.pages.map((page) => (page.data.some((g) => g.id === id) ? { ...page, data: page.data.filter((g) => g.id !== id) } : page)) },
  );
  client.removeQueries({ queryKey: generationKeys.detail(id), exact: true });
  client.removeQueries({ queryKey: generationKeys.versions(id), exact: true });
  // How the graph closes over a deleted version is the server's business: ask again.
  void client.invalidateQueries({ queryKey: ['generations', 'versions'], predicate: (q) => (q.state.data as GenerationVersions | undefined)?.data.some((g) => g.id === id) ?? false });
}

/** All loaded generations, newest first, without duplicates. */
export function flattenPages(data: GenerationPages | undefined): Generation[] {
  if (!data) return [];
  const seen = new Set<string>();
  const out: Generation[] = [];
  for (const page of data.pages)
    for (const g of page.data) {
      if (seen.has(g.id)) continue;
      seen.add(g.id);
      out.push(g);
    }
  return out;
}

/**
 * After the event stream reconnects, updates sent while it was down are lost: fetch the newest page
 * and merge it, rather than refetching every loaded page.
 */
export async function refreshAfterReconnect(client: QueryClient): Promise<void> {
  const list = client.getQueryData<GenerationPages>(generationKeys.list());
  if (!list) {
    await client.invalidateQueries({ queryKey: generationKeys.list() });
  } else {
    const page = reconcilePage(await listGenerations(null));
    for (const generation of page.data.slice().reverse()) upsertGeneration(client, generation);
  }
  await client.invalidateQueries({ queryKey: ['generations', 'detail'], refetchType: 'active' });
  await client.invalidateQueries({ queryKey: ['generations', 'versions'], refetchType: 'active' });
}

/** Forgets what events told us (on sign-out). */
export function resetGenerationCache(): void {
  recent.clear();
  deleted.clear();
}
