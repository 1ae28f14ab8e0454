import type { Clock } from '#src/lib/clock.ts';
import { AppError } from '#src/lib/errors.ts';

/** What one user may keep: bytes of stored (re-encoded) originals and a number of uploads. null: no limit. */
export interface UploadQuota {
  maxBytes: number | null;
  maxCount: number | null;
}

export interface UploadUsage {
  bytes: number;
  count: number;
}

const FREE_SPACE = 'Delete uploads you no longer need to free space: in the studio from Library → Uploads, or with DELETE /v1/uploads/{id}.';

/** "512 KB", "20 MB", "1.5 GB": binary units, as the limits are configured. */
export function formatSize(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Math.round(value * 10) / 10} ${units[unit]}`;
}

/**
 * The refusal for an upload that would take the user past their quota, or null when it fits.
 * `incomingBytes` is 0 for the check made before the body is read: it refuses only a user already at a limit.
 */
export function quotaRefusal(usage: UploadUsage, quota: UploadQuota, incomingBytes: number): AppError | null {
  const details = { quota_bytes: quota.maxBytes, used_bytes: usage.bytes, quota_count: quota.maxCount, used_count: usage.count };
  if (quota.maxCount !== null && usage.count + 1 > quota.maxCount) {
    return new AppError('payload_too_large', `Upload quota reached: you have ${usage.count} uploads, the most one account can keep (${quota.maxCount}). ${FREE_SPACE}`, { details });
  }
  if (quota.maxBytes !== null && (usage.bytes >= quota.maxBytes || usage.bytes + incomingBytes > quota.maxBytes)) {
    const needs = incomingBytes > 0 ? ` and this image needs ${formatSize(incomingBytes)}` : '';
    return new AppError(
      'payload_too_large',
      `Upload quota reached: your uploads use ${formatSize(usage.bytes)} of your ${formatSize(quota.maxBytes)}${needs}. ${FREE_SPACE}`,
      { details },
    );
  }
  return null;
}

/**
 * Uploads per user per minute, in fixed windows that start with a user's first upload. Counted in this
 * process (as the other request limits are); the same counter serves the studio and the public API.
 */
export function createUploadRateLimit(opts: { perMinute: number; clock: Clock }) {
  const windowMs = 60_000;
  const windows = new Map<string, { startedAt: number; count: number }>();

  const sweep = (now: number) => {
    for (const [key, w] of windows) if (now - w.startedAt >= windowMs) windows.delete(key);
  };

  return {
    /** Counts an attempt; throws `rate_limited` (with the seconds until the window resets) when over the limit. */
    take(userId: string): void {
      const now = opts.clock.now().getTime();
      if (windows.size > 10_000) sweep(now);
      let w = windows.get(userId);
      if (!w || now - w.startedAt >= windowMs) {
        w = { startedAt: now, count: 0 };
        windows.set(userId, w);
      }
      w.count++;
      if (w.count <= opts.perMinute) return;
      const retryAfter = Math.max(1, Math.ceil((w.startedAt + windowMs - now) / 1000));
      throw new AppError('rate_limited', `Too many uploads: at most ${opts.perMinute} a minute per account. Try again in ${retryAfter} ${retryAfter === 1 ? 'second' : 'seconds'}.`, {
        details: { limit: opts.perMinute, window_seconds: windowMs / 1000, retry_after_seconds: retryAfter },
      });
    },
  };
}
