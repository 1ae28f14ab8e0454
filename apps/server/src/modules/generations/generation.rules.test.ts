import { describe, expect, it } from 'vitest';
import { GENERATION_STATUSES } from '@atelier/contracts';
import { AppError } from '#src/lib/errors.ts';
import { DEFAULT_CATALOGUE } from '#src/modules/catalogue/catalogue.ts';
import { backoffMs, canTransition, hashRequest, isCancelable, resolveRequest, takesOriginalReferences, validateIdempotencyKey } from './generation.rules.ts';

const offline = DEFAULT_CATALOGUE.find((m) => m.id === 'offline')!;
const pro = DEFAULT_CATALOGUE.find((m) => m.id === 'flux-2-pro')!;
const upscale2 = DEFAULT_CATALOGUE.find((m) => m.id === 'upscale-2x')!;
const upscale4 = DEFAULT_CATALOGUE.find((m) => m.id === 'upscale-4x')!;

describe('status transitions', () => {
  it('lets nothing leave a final status', () => {
    for (const from of ['succeeded', 'failed', 'canceled', 'blocked'] as const) {
      for (const to of GENERATION_STATUSES) expect(canTransition(from, to)).toBe(false);
    }
  });
  it('allows the lifecycle and cancelling only while unfinished', () => {
    expect(canTransition('queued', 'running')).toBe(true);
    expect(canTransition('running', 'succeeded')).toBe(true);
    expect(canTransition('queued', 'succeeded')).toBe(false);
    expect(GENERATION_STATUSES.filter(isCancelable)).toEqual(['queued', 'running']);
  });
});

describe('resolveRequest', () => {
  it('derives the size from the aspect ratio, defaulting to 1:1, and the model’s default format', () => {
    expect(resolveRequest({ model: 'offline', prompt: 'x' }, offline)).toEqual({ width: 1024, height: 1024, aspectRatio: '1:1', outputFormat: 'png' });
    expect(resolveRequest({ model: 'flux-2-pro', prompt: 'x', aspect_ratio: '21:9' }, pro)).toMatchObject({ width: 1568, height: 672, aspectRatio: '21:9', outputFormat: 'jpeg' });
  });
  it('keeps an explicit size and reports every problem at once', () => {
    expect(resolveRequest({ model: 'offline', prompt: 'x', width: 512, height: 768 }, offline)).toMatchObject({ width: 512, height: 768, aspectRatio: null });
    const error = (() => {
      try {
        resolveRequest({ model: 'offline', prompt: 'x', width: 1000, height: 4000 }, { ...offline, output_formats: ['png'] as const } as never);
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(error).toBeInstanceOf(AppError);
    expect(error?.fields?.map((f) => f.path)).toEqual(['width', 'height']);
  });
  it('refuses a format the model does not offer', () => {
    expect(() => resolveRequest({ model: 'x', prompt: 'x', output_format: 'webp' }, { ...offline, output_formats: ['png'], default_output_format: 'png' })).toThrow(/supports png/);
  });
});

describe('resolveRequest for upscale models', () => {
  const ref = '01a20127-2b33-755e-a36b-44e9ba860e1f';
  const problems = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      return (e as AppError).fields ?? [];
    }
    throw new Error('expected a validation error');
  };

  it('makes the output the source × the factor, whatever its shape', () => {
    expect(resolveRequest({ model: 'upscale-2x', prompt: 'x', references: [ref] }, upscale2, { width: 1000, height: 750 })).toEqual({ width: 2000, height: 1500, aspectRatio: null, outputFormat: 'png' });
    expect(resolveRequest({ model: 'upscale-4x', prompt: 'x', references: [ref], output_format: 'jpeg', seed: 7 }, upscale4, { width: 333, height: 17 })).toEqual({ width: 1332, height: 68, aspectRatio: null, outputFormat: 'jpeg' });
  });

  it('takes exactly one image', () => {
    expect(problems(() => resolveRequest({ model: 'upscale-2x', prompt: 'x' }, upscale2))).toEqual([{ path: 'references', message: 'Upscale ×2 takes exactly one image to upscale (got 0)' }]);
    expect(problems(() => resolveRequest({ model: 'upscale-2x', prompt: 'x', references: [ref, ref] }, upscale2, { width: 10, height: 10 }))).toEqual([{ path: 'references', message: 'Upscale ×2 takes exactly one image to upscale (got 2)' }]);
    expect(problems(() => resolveRequest({ model: 'upscale-2x', prompt: 'x', references: [ref] }, upscale2, undefined))).toEqual([{ path: 'references.0', message: `image 1 (${ref}) is not one of your uploads or images` }]);
  });

  it('refuses a size, an aspect ratio or several images, naming each', () => {
    const fields = problems(() => resolveRequest({ model: 'upscale-4x', prompt: 'x', references: [ref], width: 512, height: 512, aspect_ratio: '1:1', count: 2 }, upscale4, { width: 64, height: 64 }));
    expect(fields.map((f) => f.path)).toEqual(['width', 'height', 'aspect_ratio', 'count']);
    expect(fields[0]!.message).toBe('Upscale ×4 makes the image 4× the size of its source; leave out width');
    expect(fields[3]!.message).toBe('Upscale ×4 makes one image per request (got count 2)');
  });

  it('refuses an output above the model’s pixel or side limit, and one below its minimum', () => {
    // 32 MP of output: 4096×2048 ×2 = 8192×4096 is exactly 32 MP; one more row is too much.
    expect(resolveRequest({ model: 'upscale-2x', prompt: 'x', references: [ref] }, upscale2, { width: 4096, height: 2048 })).toMatchObject({ width: 8192, height: 4096 });
    expect(problems(() => resolveRequest({ model: 'upscale-2x', prompt: 'x', references: [ref] }, upscale2, { width: 4096, height: 2049 }))[0]!.message).toBe(
      'this 4096×2049 image would become 8192×4098 (32.02 MP); Upscale ×2 makes at most 32 MP and 8192 pixels a side',
    );
    expect(problems(() => resolveRequest({ model: 'upscale-4x', prompt: 'x', references: [ref] }, upscale4, { width: 2049, height: 16 }))[0]!.message).toContain('8196×64');
    expect(problems(() => resolveRequest({ model: 'upscale-2x', prompt: 'x', references: [ref] }, upscale2, { width: 7, height: 100 }))[0]!.message).toContain('too small to upscale');
  });

  it('gives only upscalers the original references', () => {
    expect(takesOriginalReferences(upscale2)).toBe(true);
    expect(takesOriginalReferences(offline)).toBe(false);
    expect(takesOriginalReferences(undefined)).toBe(false);
  });
});

describe('idempotency helpers', () => {
  it('hashes requests independently of key order', () => {
    expect(hashRequest({ model: 'a', prompt: 'b', seed: 1 })).toBe(hashRequest({ seed: 1, prompt: 'b', model: 'a' }));
    expect(hashRequest({ model: 'a', prompt: 'b' })).not.toBe(hashRequest({ model: 'a', prompt: 'c' }));
  });
  it('validates keys', () => {
    expect(validateIdempotencyKey(undefined)).toBeNull();
    expect(validateIdempotencyKey('abc-123')).toBe('abc-123');
    expect(() => validateIdempotencyKey('')).toThrow(AppError);
    expect(() => validateIdempotencyKey('has space')).toThrow(AppError);
    expect(() => validateIdempotencyKey('x'.repeat(256))).toThrow(AppError);
  });
});

describe('backoffMs', () => {
  it('is full jitter under a doubling, capped ceiling', () => {
    expect(backoffMs(1, () => 1)).toBe(2000);
    expect(backoffMs(3, () => 1)).toBe(8000);
    expect(backoffMs(30, () => 1)).toBe(300_000);
    expect(backoffMs(3, () => 0)).toBe(0);
    expect(backoffMs(2, () => 0.5, 100)).toBe(100);
  });
});
