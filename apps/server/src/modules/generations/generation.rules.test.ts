import { describe, expect, it } from 'vitest';
import { GENERATION_STATUSES } from '@atelier/contracts';
import { AppError } from '#src/lib/errors.ts';
import { DEFAULT_CATALOGUE } from '#src/modules/catalogue/catalogue.ts';
import { backoffMs, canTransition, hashRequest, isCancelable, resolveRequest, validateIdempotencyKey } from './generation.rules.ts';

const offline = DEFAULT_CATALOGUE.find((m) => m.id === 'offline')!;
const pro = DEFAULT_CATALOGUE.find((m) => m.id === 'flux-2-pro')!;

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
