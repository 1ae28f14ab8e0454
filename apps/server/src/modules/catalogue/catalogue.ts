import { ENGINE_LABELS, LOCAL_UPSCALER_LABEL, modelDefinitionSchema, type Engine, type Model, type ModelDefinition, type RouteDefinition } from '@atelier/contracts';
import { type z } from 'zod';

/**
 * Models as data. A model is served by an ordered list of routes (engine + the engine's model name);
 * the job tries them in order and fails over on 429/5xx/timeouts/open circuits. The built-in catalogue
 * below is overlaid by CATALOGUE_FILE and then by staff overrides stored in the database — each layer
 * replaces whole models by id, adds new ones, or hides one with `enabled: false`.
 */
const define = (m: z.input<typeof modelDefinitionSchema>): ModelDefinition => modelDefinitionSchema.parse(m);
const bfl = (engine_model: string, amount: number): z.input<typeof modelDefinitionSchema>['routes'][number] => ({ engine: 'bfl', engine_model, cost: { amount, unit: 'bfl_credits' } });
const fal = (engine_model: string, amount: number) => ({ engine: 'fal' as const, engine_model, cost: { amount, unit: 'usd' as const } });
const replicate = (engine_model: string, amount: number) => ({ engine: 'replicate' as const, engine_model, cost: { amount, unit: 'usd' as const } });
const EDITING = ['text-to-image', 'image-to-image', 'multi-reference'] as const satisfies ModelDefinition['workflows'];
const flux2 = { default_output_format: 'jpeg' as const, workflows: [...EDITING] };

/**
 * Upscale models: the local ESRGAN-slim networks run by the offline engine (adapters/imaging/upscaler),
 * on the CPU, so every install has them. The output is the source image × the factor; its size limit is
 * 32 MP because the media pipeline decodes at most 40 M pixels (imaging.ts) and because ×2 of a 16 MP
 * image already takes minutes on two cores, hence the long deadline. Priced per started megapixel of output.
 */
function upscaler(factor: 2 | 4): ModelDefinition {
  return define({
    id: `upscale-${factor}x`,
    label: `Upscale ×${factor}`,
    description: `Enlarges one image to ${factor}× its width and height with a local AI upscaler (ESRGAN, on the CPU). Large images take minutes.`,
    workflows: ['upscale'],
    upscale_factor: factor,
    max_reference_images: 1,
    min_dimension: 16,
    max_dimension: 8192,
    max_pixels: 32 * 1024 * 1024,
    dimension_multiple: 1,
    default_output_format: 'png',
    price_credits: 1,
    deadline_seconds: 3600,
    routes: [{ engine: 'offline', engine_model: `esrgan-x${factor}` }],
  });
}

export const DEFAULT_CATALOGUE: readonly ModelDefinition[] = [
  define({
    id: 'offline',
    label: 'Offline preview',
    description: 'A deterministic CPU renderer for trying every workflow without an engine key. Not a diffusion model.',
    default_output_format: 'png',
    // 1 credit for a preview of the usual ≈1 MP sizes, so the whole credits flow runs without an engine key.
    price_credits: 1,
    workflows: [...EDITING],
    max_reference_images: 10,
    routes: [{ engine: 'offline', engine_model: 'offline' }],
  }),
  define({
    ...flux2,
    id: 'flux-2-pro',
    price_per_reference_credits: 1,
    label: 'FLUX.2 [pro]',
    description: 'Fast, high-quality generation and editing. The recommended default.',
    max_reference_images: 8,
    price_credits: 3,
    routes: [bfl('flux-2-pro', 3), fal('fal-ai/flux-2-pro', 0.03), replicate('black-forest-labs/flux-2-pro', 0.03)],
  }),
  define({
    ...flux2,
    id: 'flux-2-max',
    price_per_reference_credits: 2,
    label: 'FLUX.2 [max]',
    description: 'Highest quality and prompt adherence.',
    max_reference_images: 8,
    price_credits: 7,
    routes: [bfl('flux-2-max', 7), fal('fal-ai/flux-2-max', 0.07), replicate('black-forest-labs/flux-2-max', 0.07)],
  }),
  define({
    ...flux2,
    id: 'flux-2-flex',
    price_per_reference_credits: 1,
    label: 'FLUX.2 [flex]',
    description: 'Adjustable steps and guidance; strongest typography.',
    max_reference_images: 8,
    price_credits: 5,
    routes: [bfl('flux-2-flex', 5), fal('fal-ai/flux-2-flex', 0.05), replicate('black-forest-labs/flux-2-flex', 0.05)],
  }),
  define({
    ...flux2,
    id: 'flux-2-klein-9b',
    label: 'FLUX.2 [klein 9B]',
    description: 'Small and quick, good quality for its size.',
    max_reference_images: 4,
    price_credits: 2,
    routes: [bfl('flux-2-klein-9b', 1.5), fal('fal-ai/flux-2/klein/9b', 0.015)],
  }),
  define({
    ...flux2,
    id: 'flux-2-klein-4b',
    label: 'FLUX.2 [klein 4B]',
    description: 'The fastest and cheapest FLUX.2 model.',
    max_reference_images: 4,
    price_credits: 2,
    routes: [bfl('flux-2-klein-4b', 1.4), fal('fal-ai/flux-2/klein/4b', 0.014), { engine: 'comfyui', engine_model: 'flux2-klein-4b' }],
  }),
  define({
    ...flux2,
    id: 'flux-2-dev',
    label: 'FLUX.2 [dev]',
    description: 'The open-weights FLUX.2 model, on your own GPUs or a hosted endpoint.',
    max_reference_images: 4,
    price_credits: 1,
    default_output_format: 'png',
    routes: [{ engine: 'comfyui', engine_model: 'flux2-dev' }, fal('fal-ai/flux-2', 0.012)],
  }),
  define({
    id: 'openai-image',
    label: 'OpenAI-compatible image model',
    description: 'Whatever image model the configured OpenAI-compatible endpoint serves.',
    workflows: [...EDITING],
    max_reference_images: 8,
    price_credits: 4,
    default_output_format: 'png',
    routes: [{ engine: 'openai', engine_model: 'gpt-image-1' }],
  }),
  upscaler(2),
  upscaler(4),
];

/** A model as the server uses it: its definition and the routes available on this server, in order. */
export interface CatalogueEntry extends ModelDefinition {
  availableRoutes: RouteDefinition[];
}

export interface Catalogue {
  /** Enabled models with at least one route whose engine is configured here. */
  list(): CatalogueEntry[];
  get(id: string): CatalogueEntry | undefined;
  /** Every definition after overlaying, enabled or not, for staff. */
  definitions(): ModelDefinition[];
  /** Replaces the top (database) layer, e.g. after a staff edit anywhere in the cluster. */
  setOverrides(overrides: readonly ModelDefinition[]): void;
}

export function overlay(...layers: (readonly ModelDefinition[])[]): ModelDefinition[] {
  const byId = new Map<string, ModelDefinition>();
  for (const layer of layers) for (const model of layer) byId.set(model.id, model);
  return [...byId.values()];
}

export function createCatalogue(opts: { base: readonly ModelDefinition[]; configuredEngines: ReadonlySet<Engine> }): Catalogue {
  let all: ModelDefinition[] = [...opts.base];
  let available: CatalogueEntry[] = [];
  const rebuild = (overrides: readonly ModelDefinition[]) => {
    all = overlay(opts.base, overrides);
    available = all
      .filter((m) => m.enabled)
      .map((m) => ({ ...m, availableRoutes: m.routes.filter((r) => opts.configuredEngines.has(r.engine)) }))
      .filter((m) => m.availableRoutes.length > 0);
  };
  rebuild([]);
  return {
    list: () => available,
    get: (id) => available.find((m) => m.id === id),
    definitions: () => all,
    setOverrides: rebuild,
  };
}

/** The public view of a model: no routes, parameters or costs; `engine` is the route tried first. */
export function presentModel(entry: CatalogueEntry): Model {
  const first = entry.availableRoutes[0]!;
  return {
    id: entry.id,
    label: entry.label,
    description: entry.description,
    engine: first.engine,
    engine_label: first.engine === 'offline' && entry.workflows.includes('upscale') ? LOCAL_UPSCALER_LABEL : ENGINE_LABELS[first.engine],
    is_preview_engine: first.engine === 'offline' && !entry.workflows.includes('upscale'),
    workflows: entry.workflows,
    max_reference_images: entry.max_reference_images,
    min_dimension: entry.min_dimension,
    max_dimension: entry.max_dimension,
    max_pixels: entry.max_pixels,
    dimension_multiple: entry.dimension_multiple,
    output_formats: entry.output_formats,
    default_output_format: entry.default_output_format,
    price_credits: entry.price_credits,
    price_per_reference_credits: entry.price_per_reference_credits,
    upscale_factor: entry.upscale_factor ?? null,
  };
}
