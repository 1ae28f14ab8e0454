import { EngineError } from '#src/adapters/providers/engine.ts';

/**
 * FLUX.2 graphs in ComfyUI's API format, built in code from the core node classes of providers.md §4.3
 * (the official `image_flux2` template and `nodes_flux.py`). `engineModel` names a template; a request
 * with references gets the same template's edit variant (LoadImage → ImageScaleToTotalPixels →
 * VAEEncode → ReferenceLatent, chained once per reference).
 */

export const COMFY_TEMPLATES = ['flux2-dev', 'flux2-klein-4b', 'flux2-klein-9b'] as const;
export type ComfyTemplateName = (typeof COMFY_TEMPLATES)[number];

/** File names as the server lists them under models/diffusion_models, models/text_encoders and models/vae. */
export interface TemplateModels {
  unet: string;
  clip: string;
  vae: string;
  /** UNETLoader weight_dtype; "default" uses the file's own precision. */
  weightDtype: string;
}

/** The file names of Comfy's FLUX.2 templates ([V] dev; [C] klein). Operators override them per template. */
export const DEFAULT_MODELS: Readonly<Record<ComfyTemplateName, TemplateModels>> = {
  'flux2-dev': { unet: 'flux2_dev_fp8mixed.safetensors', clip: 'mistral_3_small_flux2_bf16.safetensors', vae: 'flux2-vae.safetensors', weightDtype: 'default' },
  'flux2-klein-4b': { unet: 'flux-2-klein-4b-fp8.safetensors', clip: 'qwen_3_4b.safetensors', vae: 'flux2-vae.safetensors', weightDtype: 'default' },
  'flux2-klein-9b': { unet: 'flux-2-klein-9b-fp8.safetensors', clip: 'qwen_3_8b_fp8mixed.safetensors', vae: 'flux2-vae.safetensors', weightDtype: 'default' },
};

interface TemplateSpec {
  /** dev is guidance-distilled (FluxGuidance + BasicGuider); klein is step-distilled (CFGGuider, cfg 1). */
  guider: 'flux_guidance' | 'cfg';
  steps: number;
  guidance: number;
}

const SPECS: Readonly<Record<ComfyTemplateName, TemplateSpec>> = {
  'flux2-dev': { guider: 'flux_guidance', steps: 20, guidance: 4 },
  'flux2-klein-4b': { guider: 'cfg', steps: 4, guidance: 1 },
  'flux2-klein-9b': { guider: 'cfg', steps: 4, guidance: 1 },
};

export type ApiNode = { class_type: string; inputs: Record<string, unknown>; _meta?: { title: string } };
export type ApiGraph = Record<string, ApiNode>;
type Link = [string, number];

/** Node ids the adapter reads back from the history (the output) and the submitted graph (the seed). */
export const SAVE_NODE_ID = '13';
export const NOISE_NODE_ID = '9';

/** EmptyFlux2LatentImage: step 16 (the latent is H/16 × W/16); ComfyUI's MAX_RESOLUTION is 16384. */
export const SIZE_STEP = 16;
const MAX_SIZE = 16384;
export function roundSize(px: number): number {
  return Math.min(MAX_SIZE, Math.max(SIZE_STEP, Math.round(px / SIZE_STEP) * SIZE_STEP));
}

export function isTemplateName(name: string): name is ComfyTemplateName {
  return (COMFY_TEMPLATES as readonly string[]).includes(name);
}

export interface GraphInput {
  template: ComfyTemplateName;
  models: TemplateModels;
  prompt: string;
  width: number;
  height: number;
  seed: number;
  /** `request.parameters`; see `graphParameters` for the keys used. */
  parameters: Readonly<Record<string, string | number | boolean>>;
  /** Names the server returned from /upload/image, in order. */
  referenceNames: readonly string[];
  filenamePrefix: string;
}

/**
 * The parameter keys a template understands (others are ignored, since the catalogue passes the same
 * map to every engine): `steps` (integer 1–200), `guidance` (flux2-dev: FluxGuidance, 0–100),
 * `cfg` (klein: CFGGuider, 0–100; keep 1 for the distilled models), `sampler_name` (KSamplerSelect).
 */
export function graphParameters(template: ComfyTemplateName, parameters: GraphInput['parameters']): { steps: number; guidance: number; samplerName: string } {
  const spec = SPECS[template];
  const number = (key: string, min: number, max: number, integer: boolean, fallback: number): number => {
    const raw = parameters[key];
    if (raw === undefined) return fallback;
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new EngineError('engine_rejected_request', `parameter ${key} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`, { retryable: false });
    }
    return value;
  };
  const sampler = parameters.sampler_name;
  if (sampler !== undefined && (typeof sampler !== 'string' || !/^[\w.-]{1,64}$/.test(sampler))) {
    throw new EngineError('engine_rejected_request', 'parameter sampler_name must be a sampler name such as "euler"', { retryable: false });
  }
  return {
    steps: number('steps', 1, 200, true, spec.steps),
    guidance: spec.guider === 'flux_guidance' ? number('guidance', 0, 100, false, spec.guidance) : number('cfg', 0, 100, false, spec.guidance),
    samplerName: sampler ?? 'euler',
  };
}

export function buildGraph(input: GraphInput): ApiGraph {
  const spec = SPECS[input.template];
  const { steps, guidance, samplerName } = graphParameters(input.template, input.parameters);
  const width = roundSize(input.width);
  const height = roundSize(input.height);
  const m = input.models;
  const graph: ApiGraph = {
    '1': { class_type: 'UNETLoader', inputs: { unet_name: m.unet, weight_dtype: m.weightDtype } },
    '2': { class_type: 'CLIPLoader', inputs: { clip_name: m.clip, type: 'flux2', device: 'default' } },
    '3': { class_type: 'VAELoader', inputs: { vae_name: m.vae } },
    '4': { class_type: 'CLIPTextEncode', inputs: { clip: ['2', 0], text: input.prompt } },
  };
  let positive: Link = ['4', 0];
  let negative: Link | null = null;
  if (spec.guider === 'flux_guidance') {
    graph['5'] = { class_type: 'FluxGuidance', inputs: { conditioning: positive, guidance } };
    positive = ['5', 0];
  } else {
    graph['5'] = { class_type: 'ConditioningZeroOut', inputs: { conditioning: positive } };
    negative = ['5', 0];
  }

  input.referenceNames.forEach((name, i) => {
    const id = (k: number) => String(100 + i * 10 + k);
    graph[id(0)] = { class_type: 'LoadImage', inputs: { image: name } };
    // resolution_steps is required by current servers and ignored (unknown input) by older ones.
    graph[id(1)] = { class_type: 'ImageScaleToTotalPixels', inputs: { image: [id(0), 0], upscale_method: 'lanczos', megapixels: 1, resolution_steps: 1 } };
    graph[id(2)] = { class_type: 'VAEEncode', inputs: { pixels: [id(1), 0], vae: ['3', 0] } };
    graph[id(3)] = { class_type: 'ReferenceLatent', inputs: { conditioning: positive, latent: [id(2), 0] } };
    positive = [id(3), 0];
    if (negative) {
      // The negative carries the references too, as in Comfy's klein edit graphs (unused at cfg 1).
      graph[id(4)] = { class_type: 'ReferenceLatent', inputs: { conditioning: negative, latent: [id(2), 0] } };
      negative = [id(4), 0];
    }
  });

  graph['6'] = negative
    ? { class_type: 'CFGGuider', inputs: { model: ['1', 0], positive, negative, cfg: guidance } }
    : { class_type: 'BasicGuider', inputs: { model: ['1', 0], conditioning: positive } };
  Object.assign(graph, {
    '7': { class_type: 'KSamplerSelect', inputs: { sampler_name: samplerName } },
    '8': { class_type: 'Flux2Scheduler', inputs: { steps, width, height } },
    [NOISE_NODE_ID]: { class_type: 'RandomNoise', inputs: { noise_seed: input.seed } },
    '10': { class_type: 'EmptyFlux2LatentImage', inputs: { width, height, batch_size: 1 } },
    '11': { class_type: 'SamplerCustomAdvanced', inputs: { noise: [NOISE_NODE_ID, 0], guider: ['6', 0], sampler: ['7', 0], sigmas: ['8', 0], latent_image: ['10', 0] } },
    '12': { class_type: 'VAEDecode', inputs: { samples: ['11', 0], vae: ['3', 0] } },
    [SAVE_NODE_ID]: { class_type: 'SaveImage', inputs: { images: ['12', 0], filename_prefix: input.filenamePrefix } },
  } satisfies ApiGraph);
  return graph;
}
