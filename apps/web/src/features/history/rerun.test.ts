import { describe, expect, it } from 'vitest';
import type { Generation } from '@atelier/contracts';
import { rerunRequest, varyRequest } from './rerun';

const base: Generation = {
  id: '11111111-1111-4111-8111-111111111111',
  status: 'succeeded',
  model: 'offline',
  model_label: 'Offline preview',
  engine: 'offline',
  is_preview_engine: true,
  prompt: 'red fox in snow',
  width: 1024,
  height: 768,
  aspect_ratio: '4:3',
  seed: 42,
  output_format: 'png',
  progress: null,
  cost_credits: null,
  error: null,
  images: [],
  references: [{ id: '22222222-2222-4222-8222-222222222222', kind: 'upload', thumbnail_url: '/t' }],
  parent_id: '33333333-3333-4333-8333-333333333333',
  workflow: 'image-to-image',
  batch_id: null,
  favorite: false,
  collection_ids: [],
  created_at: '2026-01-01T00:00:00Z',
  started_at: null,
  completed_at: null,
};

describe('re-run and vary', () => {
  it('re-runs the same request with the same seed, as a new root', () => {
    expect(rerunRequest(base)).toEqual({ model: 'offline', prompt: 'red fox in snow', aspect_ratio: '4:3', output_format: 'png', references: ['22222222-2222-4222-8222-222222222222'], seed: 42 });
  });

  it('sends exact pixels when no aspect ratio was asked for', () => {
    expect(rerunRequest({ ...base, aspect_ratio: null, width: 1000, height: 600, references: [] })).toEqual({ model: 'offline', prompt: 'red fox in snow', width: 1000, height: 600, output_format: 'png', seed: 42 });
  });

  it('varies with a different seed, as the next version of this generation', () => {
    expect(varyRequest(base, 7)).toMatchObject({ seed: 7, parent: base.id, prompt: base.prompt, references: ['22222222-2222-4222-8222-222222222222'] });
    expect(varyRequest(base, 42).seed).toBe(43);
  });
});
