/**
 * The node classes the fake ComfyUI knows (the FLUX.2 core nodes of providers.md §4.3) and a port of
 * ComfyUI's `validate_prompt` / `validate_inputs` (execution.py): the same checks, error types,
 * messages and the `{error, node_errors}` shape of its 400 answer.
 */

export interface FakeComfyContext {
  /** Model files "installed" per folder, which combo inputs accept. */
  models: { diffusion_models: string[]; text_encoders: string[]; vae: string[] };
  /** Names of files in the input folder (uploads), `subfolder/name` when in a subfolder. */
  inputFiles: ReadonlySet<string>;
}

type Combo = (ctx: FakeComfyContext) => readonly string[];
interface InputSpec {
  /** A link type (MODEL, LATENT, …), a primitive (INT, FLOAT, STRING) or a combo (list of choices). */
  type: string | Combo;
  min?: number;
  max?: number;
}
export interface NodeSpec {
  required: Record<string, InputSpec>;
  optional?: Record<string, InputSpec>;
  outputs: string[];
  isOutputNode?: boolean;
  /** VALIDATE_INPUTS: true, or the reason text. Inputs it covers skip the combo check, as in ComfyUI. */
  validate?: { inputs: string[]; check: (inputs: Record<string, unknown>, ctx: FakeComfyContext) => true | string };
}

const list = (...items: string[]): Combo => () => items;
const MAX_RESOLUTION = 16384;
const link = (type: string): InputSpec => ({ type });
const int = (min: number, max: number): InputSpec => ({ type: 'INT', min, max });
const float = (min: number, max: number): InputSpec => ({ type: 'FLOAT', min, max });

export const SAMPLERS = ['euler', 'euler_cfg_pp', 'euler_ancestral', 'heun', 'dpm_2', 'dpm_2_ancestral', 'lms', 'dpmpp_2s_ancestral', 'dpmpp_sde', 'dpmpp_2m', 'dpmpp_2m_sde', 'dpmpp_3m_sde', 'ddpm', 'lcm', 'ipndm', 'deis', 'res_multistep', 'gradient_estimation', 'er_sde', 'seeds_2', 'seeds_3'];

export const NODE_CLASSES: Readonly<Record<string, NodeSpec>> = {
  UNETLoader: { required: { unet_name: { type: (c) => c.models.diffusion_models }, weight_dtype: { type: list('default', 'fp8_e4m3fn', 'fp8_e4m3fn_fast', 'fp8_e5m2') } }, outputs: ['MODEL'] },
  CLIPLoader: {
    required: { clip_name: { type: (c) => c.models.text_encoders }, type: { type: list('stable_diffusion', 'stable_cascade', 'sd3', 'stable_audio', 'mochi', 'ltxv', 'pixart', 'cosmos', 'lumina2', 'wan', 'hidream', 'chroma', 'ace', 'omnigen2', 'qwen_image', 'hunyuan_image', 'flux2', 'ovis') } },
    optional: { device: { type: list('default', 'cpu') } },
    outputs: ['CLIP'],
  },
  VAELoader: { required: { vae_name: { type: (c) => c.models.vae } }, outputs: ['VAE'] },
  CLIPTextEncode: { required: { text: { type: 'STRING' }, clip: link('CLIP') }, outputs: ['CONDITIONING'] },
  FluxGuidance: { required: { conditioning: link('CONDITIONING'), guidance: float(0, 100) }, outputs: ['CONDITIONING'] },
  ConditioningZeroOut: { required: { conditioning: link('CONDITIONING') }, outputs: ['CONDITIONING'] },
  ReferenceLatent: { required: { conditioning: link('CONDITIONING') }, optional: { latent: link('LATENT') }, outputs: ['CONDITIONING'] },
  BasicGuider: { required: { model: link('MODEL'), conditioning: link('CONDITIONING') }, outputs: ['GUIDER'] },
  CFGGuider: { required: { model: link('MODEL'), positive: link('CONDITIONING'), negative: link('CONDITIONING'), cfg: float(0, 100) }, outputs: ['GUIDER'] },
  KSamplerSelect: { required: { sampler_name: { type: () => SAMPLERS } }, outputs: ['SAMPLER'] },
  Flux2Scheduler: { required: { steps: int(1, 4096), width: int(16, MAX_RESOLUTION), height: int(16, MAX_RESOLUTION) }, outputs: ['SIGMAS'] },
  RandomNoise: { required: { noise_seed: int(0, 2 ** 64 - 1) }, outputs: ['NOISE'] },
  EmptyFlux2LatentImage: { required: { width: int(16, MAX_RESOLUTION), height: int(16, MAX_RESOLUTION), batch_size: int(1, 4096) }, outputs: ['LATENT'] },
  SamplerCustomAdvanced: {
    required: { noise: link('NOISE'), guider: link('GUIDER'), sampler: link('SAMPLER'), sigmas: link('SIGMAS'), latent_image: link('LATENT') },
    outputs: ['LATENT', 'LATENT'],
  },
  VAEDecode: { required: { samples: link('LATENT'), vae: link('VAE') }, outputs: ['IMAGE'] },
  VAEEncode: { required: { pixels: link('IMAGE'), vae: link('VAE') }, outputs: ['LATENT'] },
  LoadImage: {
    required: { image: { type: (c) => [...c.inputFiles].sort() } },
    outputs: ['IMAGE', 'MASK'],
    validate: { inputs: ['image'], check: (inputs, c) => (c.inputFiles.has(String(inputs.image)) ? true : `Invalid image file: ${String(inputs.image)}`) },
  },
  ImageScaleToTotalPixels: {
    required: { image: link('IMAGE'), upscale_method: { type: list('nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos') }, megapixels: float(0.01, 16), resolution_steps: int(1, 256) },
    outputs: ['IMAGE'],
  },
  SaveImage: { required: { images: link('IMAGE'), filename_prefix: { type: 'STRING' } }, outputs: [], isOutputNode: true },
};

export interface ValidationError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}
export type PromptGraph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
export type ValidationResult =
  | { ok: true; outputs: string[]; graph: PromptGraph; nodeErrors: NodeErrors }
  | { ok: false; error: ValidationError; nodeErrors: NodeErrors };
/** Also in a 200 answer, for outputs that failed while others passed. */
export type NodeErrors = Record<string, { errors: ValidationError[]; dependent_outputs: string[]; class_type: string }>;

const invalid = (type: string, message: string, details: string): ValidationResult => ({ ok: false, error: { type, message, details, extra_info: {} }, nodeErrors: {} });
/** Python's `str(list)` for error details, e.g. `['a', 'b']`. */
const pyList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(', ')}]`;

class KeyError extends Error {}

export function validatePrompt(prompt: unknown, ctx: FakeComfyContext): ValidationResult {
  if (typeof prompt !== 'object' || prompt === null || Array.isArray(prompt)) return invalid('invalid_prompt', 'Prompt must be an object of nodes', '');
  const graph = prompt as Record<string, { class_type?: unknown; inputs?: unknown }>;
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(graph)) {
    if (typeof node !== 'object' || node === null || typeof node.class_type !== 'string') {
      return invalid('invalid_prompt', 'Cannot execute because a node is missing the class_type property.', `Node ID '#${id}'`);
    }
    const spec = NODE_CLASSES[node.class_type];
    if (!spec) return invalid('invalid_prompt', `Cannot execute because node ${node.class_type} does not exist.`, `Node ID '#${id}'`);
    if (spec.isOutputNode) outputs.push(id);
  }
  if (outputs.length === 0) return invalid('prompt_no_outputs', 'Prompt has no outputs', '');
  const typed = graph as PromptGraph;
  const validated = new Map<string, { valid: boolean; errors: ValidationError[] }>();

  const validateNode = (id: string): { valid: boolean; errors: ValidationError[] } => {
    const seen = validated.get(id);
    if (seen) return seen;
    const node = typed[id]!;
    const spec = NODE_CLASSES[node.class_type]!;
    const inputs = typeof node.inputs === 'object' && node.inputs !== null ? node.inputs : {};
    const errors: ValidationError[] = [];
    let valid = true;
    const err = (type: string, message: string, details: string, name: string) => errors.push({ type, message, details, extra_info: { input_name: name } });
    const all: [string, InputSpec, boolean][] = [
      ...Object.entries(spec.required).map(([k, v]): [string, InputSpec, boolean] => [k, v, true]),
      ...Object.entries(spec.optional ?? {}).map(([k, v]): [string, InputSpec, boolean] => [k, v, false]),
    ];
    for (const [name, input, required] of all) {
      if (!(name in inputs)) {
        if (required) err('required_input_missing', 'Required input is missing', name, name);
        continue;
      }
      const value = inputs[name];
      if (Array.isArray(value)) {
        if (value.length !== 2) { err('bad_linked_input', 'Bad linked input, must be a length-2 list of [node_id, slot_index]', name, name); continue; }
        const [from, slot] = value as [unknown, unknown];
        const source = typed[String(from)];
        if (!source) throw new KeyError(`'${String(from)}'`);
        const produced = NODE_CLASSES[source.class_type]!.outputs[Number(slot)];
        if (produced === undefined) throw new KeyError('tuple index out of range');
        if (typeof input.type === 'string' && produced !== input.type) {
          err('return_type_mismatch', 'Return type mismatch between linked nodes', `${name}, received_type(${produced}) mismatch input_type(${input.type})`, name);
          continue;
        }
        if (!validateNode(String(from)).valid) valid = false;
        continue;
      }
      if (typeof input.type === 'string' && ['INT', 'FLOAT'].includes(input.type)) {
        const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
        if (!Number.isFinite(n) || (input.type === 'INT' && typeof value === 'string' && !/^-?\d+$/.test(value.trim()))) {
          err('invalid_input_type', `Failed to convert an input value to a ${input.type} value`, `${name}, ${String(value)}, could not convert`, name);
          continue;
        }
        const v = input.type === 'INT' ? Math.trunc(n) : n;
        if (input.min !== undefined && v < input.min) { err('value_smaller_than_min', `Value ${v} smaller than min of ${input.min}`, name, name); continue; }
        if (input.max !== undefined && v > input.max) { err('value_bigger_than_max', `Value ${v} bigger than max of ${input.max}`, name, name); continue; }
        continue;
      }
      if (typeof input.type === 'function' && !spec.validate?.inputs.includes(name)) {
        const choices = input.type(ctx);
        if (!choices.includes(String(value))) {
          const listInfo = choices.length > 20 ? `(list of length ${choices.length})` : pyList(choices);
          err('value_not_in_list', 'Value not in list', `${name}: '${String(value)}' not in ${listInfo}`, name);
        }
      }
    }
    if (spec.validate) {
      const verdict = spec.validate.check(inputs, ctx);
      if (verdict !== true) for (const name of spec.validate.inputs) err('custom_validation_failed', 'Custom validation failed for node', `${name} - ${verdict}`, name);
    }
    const result = { valid: valid && errors.length === 0, errors };
    validated.set(id, result);
    return result;
  };

  const nodeErrors: NodeErrors = {};
  const good: string[] = [];
  const lines: string[] = [];
  for (const output of outputs) {
    let result: { valid: boolean; errors: ValidationError[] };
    try {
      result = validateNode(output);
    } catch (e) {
      if (!(e instanceof KeyError)) throw e;
      result = { valid: false, errors: [{ type: 'exception_during_validation', message: 'Exception when validating node', details: e.message, extra_info: { exception_type: 'KeyError', traceback: [] } }] };
      validated.set(output, result);
    }
    if (result.valid) { good.push(output); continue; }
    for (const [id, r] of validated) {
      // Nodes downstream of a bad node are invalid without errors of their own; ComfyUI leaves them out.
      if (r.valid || r.errors.length === 0) continue;
      nodeErrors[id] ??= { errors: r.errors, dependent_outputs: [], class_type: typed[id]!.class_type };
      nodeErrors[id].dependent_outputs.push(output);
    }
    lines.push(...result.errors.map((e) => `${e.message}: ${e.details}`));
  }
  if (good.length === 0) {
    const details = lines.length > 0 ? lines.join('\n') : Object.values(nodeErrors).flatMap((n) => n.errors.map((e) => `${e.message}: ${e.details}`)).join('\n');
    return { ok: false, error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} }, nodeErrors };
  }
  return { ok: true, outputs: good, graph: typed, nodeErrors };
}
