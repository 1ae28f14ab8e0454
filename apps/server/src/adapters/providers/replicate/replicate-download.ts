import { EngineError } from '#src/adapters/providers/engine.ts';
import { errorFromResponse, isTokenAllowedFor, parseResponseUrl, replicateFetch } from './replicate-http.ts';
import type { ReplicateHttpConfig } from './replicate-http.ts';
import { readCapped, resultTooLarge } from '../engine-http.ts';

/**
 * Downloading a prediction's output at once: Replicate deletes API predictions' outputs after an hour.
 * replicate.delivery URLs are public and get no token; outputs served by the API origin itself
 * (the files API) get it.
 */

/** Magic numbers of the formats FLUX.2 returns, for servers that label images application/octet-stream. */
function looksLikeImage(bytes: Buffer): boolean {
  const png = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  const webp = bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP';
  const gif = bytes.subarray(0, 4).toString('latin1') === 'GIF8';
  return png || jpeg || webp || gif;
}

export async function downloadOutput(cfg: ReplicateHttpConfig, rawUrl: string, maxBytes: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const url = parseResponseUrl(rawUrl, 'output');
  const sendToken = isTokenAllowedFor(url, cfg.baseUrl);
  return replicateFetch(cfg, url, { method: 'GET', sendToken, accept: 'image/*' }, 'output download', signal, async (res) => {
    // A deleted output answers 404 (or 410, or 403 from a signed-URL CDN) [U]; we sent no credentials to be refused.
    if (res.status === 404 || res.status === 410 || (!sendToken && (res.status === 401 || res.status === 403))) {
      await res.body?.cancel();
      throw new EngineError('result_expired', `Replicate output URL answered HTTP ${res.status}; the output has probably been deleted`, { retryable: false, httpStatus: res.status });
    }
    if (!res.ok) {
      const text = await res.text();
      throw errorFromResponse(res.status, res.headers, undefined, text, 'output download', cfg.apiToken);
    }
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    const isImageType = type.startsWith('image/');
    const mightBeImage = isImageType || type === '' || type.startsWith('application/octet-stream') || type.startsWith('binary/octet-stream');
    if (!mightBeImage) {
      await res.body?.cancel();
      throw new EngineError('invalid_output', `Replicate output is not an image (content-type "${type}")`, { retryable: false });
    }
    const bytes = await readCapped(res, maxBytes, resultTooLarge('Replicate', maxBytes));
    if (bytes.length === 0) throw new EngineError('invalid_output', 'Replicate output is empty', { retryable: false });
    if (!isImageType && !looksLikeImage(bytes)) {
      throw new EngineError('invalid_output', `Replicate output is not an image (content-type "${type || 'none'}")`, { retryable: false });
    }
    return bytes;
  });
}

