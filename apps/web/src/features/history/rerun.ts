import { ASPECT_RATIOS, type CreateGenerationInput, type Generation } from '@atelier/contracts';

/** The largest seed the API takes (a 32-bit unsigned integer). */
const MAX_SEED = 4_294_967_295;

/**
 * The request that made a generation, as far as it can be rebuilt: model, prompt, size (the aspect ratio
 * when one was asked for, else the exact pixels), output format and the reference images, in order.
 */
export function requestOf(g: Generation): CreateGenerationInput {
  const ratio = ASPECT_RATIOS.find((r) => r === g.aspect_ratio);
  return {
    model: g.model,
    prompt: g.prompt,
    ...(ratio ? { aspect_ratio: ratio } : { width: g.width, height: g.height }),
    output_format: g.output_format,
    ...(g.references.length > 0 ? { references: g.references.map((r) => r.id) } : {}),
  };
}

/** Re-run: the same request with the same seed, as a new generation of its own (no parent). */
export function rerunRequest(g: Generation): CreateGenerationInput {
  return { ...requestOf(g), ...(g.seed !== null ? { seed: g.seed } : {}) };
}

/** Vary: the same request with a new seed, recorded as the next version of this generation. */
export function varyRequest(g: Generation, seed: number = randomSeed()): CreateGenerationInput {
  return { ...requestOf(g), seed: seed === g.seed ? (seed + 1) % (MAX_SEED + 1) : seed, parent: g.id };
}

export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** Whether a generation can be re-run or varied: it finished, and it was not an upscale (which has no seed to vary). */
export function canRerun(g: Generation): boolean {
  return (g.status === 'succeeded' || g.status === 'failed') && g.workflow !== 'upscale';
}
