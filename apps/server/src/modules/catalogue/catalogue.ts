import type { Engine, Model, OutputFormat } from '@atelier/contracts';
import { MAX_PIXELS } from '@atelier/contracts';

/**
 * The models Atelier offers, as data. `engine_model` is the engine's own name for it (BFL's endpoint).
 * Prices are in Atelier credits per image up to 1 MP; billing (a later issue) will charge them.
 */
export interface CatalogueEntry extends Model {
  engine_model: string;
}

const ALL_FORMATS: OutputFormat[] = ['jpeg', 'png', 'webp'];
const ENGINE_LABELS: Record<Engine, string> = { offline: 'Offline preview engine', bfl: 'Black Forest Labs API' };

const base = {
  workflows: ['text-to-image'] as Model['workflows'],
  min_dimension: 64,
  max_dimension: 2048,
  max_pixels: MAX_PIXELS,
  dimension_multiple: 16,
  output_formats: ALL_FORMATS,
};

const bfl = (id: string, label: string, description: string, max_reference_images: number, price_credits: number): CatalogueEntry => ({
  ...base,
  id,
  label,
  description,
  engine: 'bfl',
  engine_label: ENGINE_LABELS.bfl,
  is_preview_engine: false,
  engine_model: id,
  max_reference_images,
  default_output_format: 'jpeg',
  price_credits,
});

export const DEFAULT_CATALOGUE: readonly CatalogueEntry[] = [
  {
    ...base,
    id: 'offline',
    label: 'Offline preview',
    description: 'A deterministic CPU renderer for trying every workflow without an engine key. Not a diffusion model.',
    engine: 'offline',
    engine_label: ENGINE_LABELS.offline,
    is_preview_engine: true,
    engine_model: 'offline',
    max_reference_images: 0,
    default_output_format: 'png',
    price_credits: 0,
  },
  bfl('flux-2-pro', 'FLUX.2 [pro]', 'Fast, high-quality generation and editing. The recommended default.', 8, 3),
  bfl('flux-2-max', 'FLUX.2 [max]', 'Highest quality and prompt adherence.', 8, 7),
  bfl('flux-2-flex', 'FLUX.2 [flex]', 'Adjustable steps and guidance; strongest typography.', 8, 5),
  bfl('flux-2-klein-9b', 'FLUX.2 [klein 9B]', 'Small and quick, good quality for its size.', 4, 2),
  bfl('flux-2-klein-4b', 'FLUX.2 [klein 4B]', 'The fastest and cheapest FLUX.2 model.', 4, 2),
];

export interface Catalogue {
  /** Models whose engine is configured on this server. */
  list(): CatalogueEntry[];
  get(id: string): CatalogueEntry | undefined;
}

export function createCatalogue(entries: readonly CatalogueEntry[], availableEngines: ReadonlySet<Engine>): Catalogue {
  const available = entries.filter((e) => availableEngines.has(e.engine));
  const byId = new Map(available.map((e) => [e.id, e]));
  return { list: () => available, get: (id) => byId.get(id) };
}

export function presentModel(entry: CatalogueEntry): Model {
  const { engine_model: _engineModel, ...model } = entry;
  return model;
}
