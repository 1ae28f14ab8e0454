import { describe, expect, it } from 'vitest';
import type { Generation } from '@atelier/contracts';
import { layoutVersions } from './versions';

let clock = 0;
function gen(id: string, parent: string | null = null): Generation {
  clock += 1;
  return {
    id,
    status: 'succeeded',
    model: 'offline',
    model_label: 'Offline preview',
    engine: 'offline',
    is_preview_engine: true,
    prompt: id,
    width: 1024,
    height: 1024,
    aspect_ratio: '1:1',
    seed: 1,
    output_format: 'png',
    progress: 1,
    cost_credits: null,
    error: null,
    images: [],
    references: [],
    parent_id: parent,
    workflow: 'text-to-image',
    batch_id: null,
    favorite: false,
    collection_ids: [],
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString(),
    started_at: null,
    completed_at: null,
  };
}

const rows = (data: Generation[], edges: [string, string][]) =>
  layoutVersions({ data, edges: edges.map(([parent, child]) => ({ parent, child })) }).map((r) => `${'  '.repeat(r.depth)}v${r.number} ${r.generation.id}${r.isForkStart ? ' (fork)' : ''}`);

describe('layoutVersions', () => {
  it('keeps a chain of refinements on one line, oldest first, whatever order the server lists them in', () => {
    const a = gen('a');
    const b = gen('b', 'a');
    const c = gen('c', 'b');
    expect(rows([c, a, b], [['b', 'c'], ['a', 'b']])).toEqual(['v1 a', 'v2 b', 'v3 c']);
  });

  it('indents a second refinement of the same version under it, and numbers versions by age', () => {
    const a = gen('a');
    const b = gen('b', 'a');
    const c = gen('c', 'b');
    const d = gen('d', 'a');
    expect(rows([a, b, c, d], [['a', 'b'], ['b', 'c'], ['a', 'd']])).toEqual(['v1 a', '  v4 d (fork)', 'v2 b', 'v3 c']);
  });

  it('survives a cycle and edges to versions it was not given', () => {
    const a = gen('a');
    const b = gen('b', 'a');
    expect(rows([a, b], [['a', 'b'], ['b', 'a'], ['x', 'a']])).toEqual(['v1 a', 'v2 b']);
  });
});
