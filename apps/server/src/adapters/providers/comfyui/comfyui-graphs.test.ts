import { describe, expect, test } from 'vitest';
import { COMFY_TEMPLATES, DEFAULT_MODELS, buildGraph, graphParameters, roundSize } from './comfyui-graphs.ts';
import type { ApiGraph, GraphInput } from './comfyui-graphs.ts';

const input = (overrides: Partial<GraphInput> = {}): GraphInput => ({
  template: 'flux2-dev', models: DEFAULT_MODELS['flux2-dev'], prompt: 'p', width: 1024, height: 1024, seed: 42,
  parameters: {}, referenceNames: [], filenamePrefix: 'flux2', ...overrides,
});

/** Every link `[id, slot]` points at a node of the graph. */
function danglingLinks(graph: ApiGraph): string[] {
  return Object.entries(graph).flatMap(([id, node]) =>
    Object.entries(node.inputs).flatMap(([name, v]) => (Array.isArray(v) && !(String(v[0]) in graph) ? [`${id}.${name}`] : [])));
}

describe('FLUX.2 graphs', () => {
  test('dev text-to-image is exactly the minimal graph of providers.md §4.3', () => {
    expect(buildGraph(input())).toEqual({
      '1': { class_type: 'UNETLoader', inputs: { unet_name: 'flux2_dev_fp8mixed.safetensors', weight_dtype: 'default' } },
      '2': { class_type: 'CLIPLoader', inputs: { clip_name: 'mistral_3_small_flux2_bf16.safetensors', type: 'flux2', device: 'default' } },
      '3': { class_type: 'VAELoader', inputs: { vae_name: 'flux2-vae.safetensors' } },
      '4': { class_type: 'CLIPTextEncode', inputs: { clip: ['2', 0], text: 'p' } },
      '5': { class_type: 'FluxGuidance', inputs: { conditioning: ['4', 0], guidance: 4 } },
      '6': { class_type: 'BasicGuider', inputs: { model: ['1', 0], conditioning: ['5', 0] } },
      '7': { class_type: 'KSamplerSelect', inputs: { sampler_name: 'euler' } },
      '8': { class_type: 'Flux2Scheduler', inputs: { steps: 20, width: 1024, height: 1024 } },
      '9': { class_type: 'RandomNoise', inputs: { noise_seed: 42 } },
      '10': { class_type: 'EmptyFlux2LatentImage', inputs: { width: 1024, height: 1024, batch_size: 1 } },
      '11': { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['9', 0], guider: ['6', 0], sampler: ['7', 0], sigmas: ['8', 0], latent_image: ['10', 0] } },
      '12': { class_type: 'VAEDecode', inputs: { samples: ['11', 0], vae: ['3', 0] } },
      '13': { class_type: 'SaveImage', inputs: { images: ['12', 0], filename_prefix: 'flux2' } },
    });
  });

  test.each(COMFY_TEMPLATES.flatMap((t) => [[t, 0], [t, 3]] as const))('%s with %i references has no dangling links', (template, n) => {
    const graph = buildGraph(input({ template, models: DEFAULT_MODELS[template], referenceNames: Array.from({ length: n }, (_, i) => `r${i}.png`) }));
    expect(danglingLinks(graph)).toEqual([]);
    expect(Object.values(graph).filter((node) => node.class_type === 'LoadImage')).toHaveLength(n);
  });

  test('sizes round to the nearest multiple of 16 within 16…16384', () => {
    expect([roundSize(1000), roundSize(1016), roundSize(7), roundSize(20_000)]).toEqual([1008, 1024, 16, 16384]);
  });

  test('parameters: steps, guidance (dev) or cfg (klein), sampler_name; numeric strings accepted; bad values refused', () => {
    expect(graphParameters('flux2-dev', { steps: '28', guidance: 2.5, cfg: 9, sampler_name: 'dpmpp_2m' })).toEqual({ steps: 28, guidance: 2.5, samplerName: 'dpmpp_2m' });
    expect(graphParameters('flux2-klein-4b', { guidance: 9 })).toEqual({ steps: 4, guidance: 1, samplerName: 'euler' });
    expect(graphParameters('flux2-klein-4b', { cfg: 2 }).guidance).toBe(2);
    const bads: Record<string, string | number | boolean>[] = [{ steps: 0 }, { steps: 201 }, { steps: 1.5 }, { steps: true }, { guidance: -1 }, { sampler_name: 'a b' }];
    for (const bad of bads) {
      expect(() => graphParameters('flux2-dev', bad)).toThrow(expect.objectContaining({ code: 'engine_rejected_request' }));
    }
  });
});
