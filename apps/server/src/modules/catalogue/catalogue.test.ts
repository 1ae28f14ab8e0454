import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCatalogue, DEFAULT_CATALOGUE, overlay, presentModel } from './catalogue.ts';
import { loadCatalogueFile } from './catalogue.service.ts';

const write = (content: string) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-cat-')), 'catalogue.json');
  fs.writeFileSync(file, content);
  return file;
};

describe('catalogue', () => {
  it('offers only models with a configured engine, each with its available routes in order', () => {
    const catalogue = createCatalogue({ base: DEFAULT_CATALOGUE, configuredEngines: new Set(['offline', 'fal', 'replicate'] as const) });
    expect(catalogue.list().map((m) => m.id)).toEqual(['offline', 'flux-2-pro', 'flux-2-max', 'flux-2-flex', 'flux-2-klein-9b', 'flux-2-klein-4b', 'flux-2-dev', 'upscale-2x', 'upscale-4x']);
    expect(catalogue.get('flux-2-pro')!.availableRoutes.map((r) => r.engine)).toEqual(['fal', 'replicate']);
    expect(presentModel(catalogue.get('flux-2-pro')!)).toMatchObject({ engine: 'fal', engine_label: 'fal.ai', is_preview_engine: false });
    expect(catalogue.get('openai-image')).toBeUndefined();
  });

  it('overlays by id: replaces, adds, and hides with enabled: false', () => {
    const [offline] = DEFAULT_CATALOGUE;
    const merged = overlay(DEFAULT_CATALOGUE, [
      { ...offline!, label: 'Renamed' },
      { ...offline!, id: 'extra', label: 'Extra' },
      { ...DEFAULT_CATALOGUE.find((m) => m.id === 'flux-2-pro')!, enabled: false },
    ]);
    const catalogue = createCatalogue({ base: merged, configuredEngines: new Set(['offline', 'bfl'] as const) });
    expect(catalogue.get('offline')!.label).toBe('Renamed');
    expect(catalogue.get('extra')).toBeDefined();
    expect(catalogue.get('flux-2-pro')).toBeUndefined();
    expect(catalogue.definitions().find((m) => m.id === 'flux-2-pro')!.enabled).toBe(false);
  });

  it('reads a catalogue file with defaults filled in', () => {
    const models = loadCatalogueFile(write(JSON.stringify({ models: [{ id: 'house', label: 'House model', routes: [{ engine: 'comfyui', engine_model: 'flux2-dev', parameters: { steps: 28 } }] }] })));
    expect(models[0]).toMatchObject({ id: 'house', enabled: true, max_pixels: 4 * 1024 * 1024, dimension_multiple: 16, routes: [{ engine: 'comfyui', parameters: { steps: 28 }, cost: null }] });
  });

  it('refuses an invalid file, naming the fields', () => {
    const file = write(JSON.stringify({ models: [{ id: 'Bad Id', label: '', routes: [{ engine: 'midjourney', engine_model: 'x' }], default_output_format: 'gif' }] }));
    expect(() => loadCatalogueFile(file)).toThrow(/models\.0\.id[\s\S]*models\.0\.label[\s\S]*models\.0\.routes\.0\.engine/);
    expect(() => loadCatalogueFile(write('{ not json'))).toThrow(/could not be read as JSON/);
  });
});
