import { describe, expect, it } from 'vitest';
import { QueryClient } from '@tanstack/react-query';
import type { Generation } from '@atelier/contracts';
import { NO_FILTERS } from '#/features/history/filters';
import { generationKeys } from './api';
import { flattenPages, patchGenerations, upsertGeneration, type GenerationPages } from './cache';

let n = 0;
function gen(patch: Partial<Generation> = {}): Generation {
  n += 1;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    status: 'succeeded',
    model: 'offline',
    model_label: 'Offline preview',
    engine: 'offline',
    is_preview_engine: true,
    prompt: `image ${n}`,
    width: 1024,
    height: 1024,
    aspect_ratio: '1:1',
    seed: n,
    output_format: 'png',
    progress: null,
    cost_credits: null,
    error: null,
    images: [],
    references: [],
    parent_id: null,
    workflow: 'text-to-image',
    batch_id: null,
    favorite: false,
    collection_ids: [],
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    started_at: null,
    completed_at: null,
    ...patch,
  };
}

const pages = (...data: Generation[]): GenerationPages => ({ pages: [{ data, next_cursor: null }], pageParams: [null] });

function setup() {
  const client = new QueryClient();
  const old = gen({ prompt: 'a fox', favorite: true });
  const all = generationKeys.list();
  const foxes = generationKeys.list({ ...NO_FILTERS, q: 'fox' });
  const favourites = generationKeys.list({ ...NO_FILTERS, favorite: true });
  client.setQueryData(all, pages(old));
  client.setQueryData(foxes, pages(old));
  client.setQueryData(favourites, pages(old));
  return { client, old, all, foxes, favourites };
}

describe('live updates and filtered lists', () => {
  it('puts a new generation at the top of the whole history only, and refetches the filtered lists it may belong to', () => {
    const { client, old, all, foxes, favourites } = setup();
    const fresh = gen({ prompt: 'another fox', status: 'queued' });
    upsertGeneration(client, fresh);
    expect(flattenPages(client.getQueryData(all)).map((g) => g.id)).toEqual([fresh.id, old.id]);
    expect(flattenPages(client.getQueryData(foxes)).map((g) => g.id)).toEqual([old.id]);
    expect(client.getQueryState(foxes)?.isInvalidated).toBe(true);
    // A new generation is never a favourite yet: that list is left alone.
    expect(client.getQueryState(favourites)?.isInvalidated).toBe(false);
  });

  it('does not refetch filtered lists on every progress event, only when the generation finishes', () => {
    const { client, foxes } = setup();
    const fresh = gen({ status: 'queued' });
    upsertGeneration(client, fresh);
    client.setQueryData(foxes, client.getQueryData(foxes)); // refetched: no longer invalidated
    expect(client.getQueryState(foxes)?.isInvalidated).toBe(false);
    upsertGeneration(client, { ...fresh, status: 'running', progress: 0.5 });
    expect(client.getQueryState(foxes)?.isInvalidated).toBe(false);
    upsertGeneration(client, { ...fresh, status: 'succeeded' });
    expect(client.getQueryState(foxes)?.isInvalidated).toBe(true);
  });

  it('updates a generation in place in every list that holds it', () => {
    const { client, old, all, foxes, favourites } = setup();
    patchGenerations(client, new Set([old.id]), (g) => ({ ...g, favorite: false, collection_ids: ['c'] }));
    for (const key of [all, foxes, favourites]) expect(flattenPages(client.getQueryData(key))[0]).toMatchObject({ favorite: false, collection_ids: ['c'] });
  });

  it('leaves an old generation it has not loaded to arrive with its page', () => {
    const client = new QueryClient();
    const newer = gen();
    const all = generationKeys.list();
    client.setQueryData<GenerationPages>(all, { pages: [{ data: [newer], next_cursor: 'more' }], pageParams: [null] });
    const older = { ...gen(), created_at: '2020-01-01T00:00:00.000Z' };
    upsertGeneration(client, older);
    expect(flattenPages(client.getQueryData(all)).map((g) => g.id)).toEqual([newer.id]);
  });
});
