import type { InfiniteData, QueryClient, QueryKey } from '@tanstack/react-query';
import type { Generation, GenerationPage, GenerationVersions } from '@atelier/contracts';
import { couldMatch, parseFilters, type HistoryFilters } from '#/features/history/filters';
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

/** True when `incoming` is strictly further along than `current` (a later status, or more progress). */
function isAhead(current: Generation, incoming: Generation): boolean {
  return !isNotOlder(incoming, current);
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

// A remembered copy replaces a fetched one only when its lifecycle is further along: at the same stage the
// server's answer is the fresher one (a favourite or collection set in another tab does not move the status).
function freshest(fetched: Generation): Generation {
  const remembered = recent.get(fetched.id);
  return remembered && isAhead(fetched, remembered) ? remembered : fetched;
}

/** Applied to every fetched page: drops deleted generations, keeps the freshest copy of each. */
export function reconcilePage(page: GenerationPage): GenerationPage {
  return { ...page, data: page.data.filter((g) => !deleted.has(g.id)).map(freshest) };
}

export function reconcileOne(generation: Generation): Generation {
  return freshest(generation);
}

/** The filters a list query was made with (its key ends with their URL form). */
function filtersOf(queryKey: QueryKey): HistoryFilters | null {
  const part = queryKey[2];
  return typeof part === 'string' && part !== '' ? parseFilters(new URLSearchParams(part)) : null;
}

function replaceIn(data: GenerationPages, generation: Generation): { data: GenerationPages; found: boolean } {
  let found = false;
  const pages = data.pages.map((page) => {
    const index = page.data.findIndex((g) => g.id === generation.id);
    if (index === -1) return page;
    found = true;
    if (!isNotOlder(page.data[index]!, generation)) return page;
    const next = page.data.slice();
    next[index] = generation;
    return { ...page, data: next };
  });
  return { data: found ? { ...data, pages } : data, found };
}

/**
 * Inserts in created_at order (new generations are the newest, so they go first). One older than
 * everything loaded, with more pages to come, is left to arrive with its page.
 */
function insertByAge(data: GenerationPages, generation: Generation): GenerationPages {
  const pages = data.pages.slice();
  for (let p = 0; p < pages.length; p++) {
    const page = pages[p]!;
    const at = page.data.findIndex((g) => g.created_at < generation.created_at);
    const isLast = p === pages.length - 1;
    if (at === -1 && !(isLast && page.next_cursor === null)) continue;
    const list = page.data.slice();
    list.splice(at === -1 ? list.length : at, 0, generation);
    pages[p] = { ...page, data: list };
    return { ...data, pages };
  }
  return data;
}

/**
 * Puts a generation into the detail cache and the lists. Every list that holds it is updated in place. A
 * generation new to a list goes at the top of the whole history only: whether it belongs in a filtered
 * list is the server's call (the prompt search is its own), so a filtered list it could match is refetched
 * instead, and only when the generation first shows up or finishes (not on every progress event).
 */
export function upsertGeneration(client: QueryClient, generation: Generation): void {
  if (deleted.has(generation.id)) return;
  const previous = recent.get(generation.id);
  const isNews = !previous || (STAGE[previous.status] < 2 && STAGE[generation.status] === 2);
  remember(generation);
  client.setQueryData<Generation>(generationKeys.detail(generation.id), (old) => newer(old, generation));
  const stale: QueryKey[] = [];
  for (const [key, data] of client.getQueriesData<GenerationPages>({ queryKey: generationKeys.lists() })) {
    if (!data) continue;
    const replaced = replaceIn(data, generation);
    const filters = filtersOf(key);
    if (replaced.found) client.setQueryData<GenerationPages>(key, replaced.data);
    else if (!filters) client.setQueryData<GenerationPages>(key, insertByAge(data, generation));
    else if (isNews && couldMatch(filters, generation)) stale.push(key);
  }
  for (const key of stale) void client.invalidateQueries({ queryKey: key, exact: true });
  client.setQueriesData<GenerationVersions>({ queryKey: ['generations', 'versions'] }, (data) => data && mergeVersion(data, generation));
}

/**
 * Applies a local change (a favourite, a collection) to every cached copy of these generations: the
 * detail, every list, open version graphs and the copies remembered from events. Used for optimistic
 * updates and after bulk actions, whose answer is only a count.
 */
export function patchGenerations(client: QueryClient, ids: ReadonlySet<string> | 'all', patch: (g: Generation) => Generation): void {
  const hits = (g: Generation) => ids === 'all' || ids.has(g.id);
  const apply = (g: Generation) => (hits(g) ? patch(g) : g);
  client.setQueriesData<Generation>({ queryKey: ['generations', 'detail'] }, (old) => old && apply(old));
  for (const [id, remembered] of recent) if (hits(remembered)) recent.set(id, patch(remembered));
  client.setQueriesData<GenerationPages>({ queryKey: generationKeys.lists() }, (data) =>
    data && { ...data, pages: data.pages.map((page) => (page.data.some(hits) ? { ...page, data: page.data.map(apply) } : page)) },
  );
  client.setQueriesData<GenerationVersions>({ queryKey: ['generations', 'versions'] }, (data) => data && (data.data.some(hits) ? { ...data, data: data.data.map(apply) } : data));
}

/** A generation from any loaded list, so a detail opened from the grid shows at once. */
export function findLoaded(client: QueryClient, id: string): Generation | undefined {
  for (const [, data] of client.getQueriesData<GenerationPages>({ queryKey: generationKeys.lists() })) {
    for (const page of data?.pages ?? []) {
      const hit = page.data.find((g) => g.id === id);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** Refetches the filtered lists (after a change the client cannot place in them, e.g. a bulk move). */
export function invalidateFilteredLists(client: QueryClient): Promise<void> {
  return client.invalidateQueries({ queryKey: generationKeys.lists(), predicate: (q) => filtersOf(q.queryKey) !== null });
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
  client.setQueriesData<GenerationPages>({ queryKey: generationKeys.lists() }, (data) =>
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
    await client.invalidateQueries({ queryKey: generationKeys.list(), exact: true });
  } else {
    const page = reconcilePage(await listGenerations(null));
    for (const generation of page.data.slice().reverse()) upsertGeneration(client, generation);
  }
  await invalidateFilteredLists(client);
  await client.invalidateQueries({ queryKey: ['generations', 'detail'], refetchType: 'active' });
  await client.invalidateQueries({ queryKey: ['generations', 'versions'], refetchType: 'active' });
}

/** Forgets what events told us (on sign-out). */
export function resetGenerationCache(): void {
  recent.clear();
  deleted.clear();
}
