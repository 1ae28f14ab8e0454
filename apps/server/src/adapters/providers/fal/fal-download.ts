import { EngineError } from '#src/adapters/providers/engine.ts';
import type { EngineResult } from '#src/adapters/providers/engine.ts';
import { errorFromAnswer, falFetch } from './fal-http.ts';
import type { FalHttpConfig } from './fal-http.ts';
import { readCapped, resultTooLarge } from '../engine-http.ts';

/**
 * Downloading a fal result at once: CDN URLs (v3.fal.media) are public and may be given a short
 * lifetime, so no key is sent, the size is capped and the content type checked.
 */

export const DEFAULT_MAX_RESULT_BYTES = 50 * 1024 * 1024;



export async function downloadResult(cfg: FalHttpConfig, result: EngineResult, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  if (result.kind === 'bytes') {
    // sync_mode: the image came inline as a data URI and was decoded while polling.
    if (result.bytes.length === 0) throw new EngineError('invalid_output', 'fal result is empty', { retryable: false });
    if (result.bytes.length > maxBytes) throw resultTooLarge('fal', maxBytes)();
    return result.bytes;
  }
  const url = URL.canParse(result.url) ? new URL(result.url) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new EngineError('invalid_output', 'fal returned an unusable result URL', { retryable: false });
  }
  return falFetch(cfg, url, { method: 'GET', sendKey: false, accept: 'image/*' }, 'result download', signal, async (res) => {
    // Expired or deleted CDN objects answer 403/404/410 [I]; we sent no credentials to be refused.
    if ([401, 403, 404, 410].includes(res.status)) {
      await res.body?.cancel();
      throw new EngineError('result_expired', `fal result URL answered HTTP ${res.status}; it has probably expired`, { retryable: false, httpStatus: res.status });
    }
    if (!res.ok) {
      const text = await res.text();
      throw errorFromAnswer({ status: res.status, headers: res.headers, body: undefined, text }, 'result download', cfg.apiKey);
    }
    const type = res.headers.get('content-type') ?? '';
    if (!type.toLowerCase().startsWith('image/')) {
      await res.body?.cancel();
      throw new EngineError('invalid_output', `fal result is not an image (content-type "${type || 'none'}")`, { retryable: false });
    }
    const bytes = await readCapped(res, maxBytes, resultTooLarge('fal', maxBytes));
    if (bytes.length === 0) throw new EngineError('invalid_output', 'fal result is empty', { retryable: false });
    return bytes;
  });
}
