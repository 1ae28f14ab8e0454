import { describe, expect, it } from 'vitest';
import { createUploadRateLimit, formatSize, quotaRefusal } from './uploads.limits.ts';

describe('upload rate limit', () => {
  it('allows the limit per user per minute, says when the window resets, and resets then', () => {
    let now = Date.parse('2026-01-01T12:00:00Z');
    const limit = createUploadRateLimit({ perMinute: 3, clock: { now: () => new Date(now) } });
    for (let i = 0; i < 3; i++) limit.take('ada');
    limit.take('bob'); // another user has their own count
    now += 45_500;
    expect(() => limit.take('ada')).toThrow(expect.objectContaining({ code: 'rate_limited', message: 'Too many uploads: at most 3 a minute per account. Try again in 15 seconds.', details: { limit: 3, window_seconds: 60, retry_after_seconds: 15 } }));
    now += 14_000;
    expect(() => limit.take('ada')).toThrow(/Try again in 1 second\./);
    now += 500;
    expect(() => limit.take('ada')).not.toThrow();
    limit.take('ada');
    limit.take('ada');
    expect(() => limit.take('ada')).toThrow(/Try again in 60 seconds/);
  });
});

describe('upload quota', () => {
  const quota = { maxBytes: 2 * 1024 ** 3, maxCount: 5000 };
  it('lets an upload through while it fits, exactly to the limit', () => {
    expect(quotaRefusal({ bytes: 0, count: 0 }, quota, 20 * 1024 ** 2)).toBeNull();
    expect(quotaRefusal({ bytes: quota.maxBytes - 100, count: 4999 }, quota, 100)).toBeNull();
    expect(quotaRefusal({ bytes: 10 ** 12, count: 10 ** 6 }, { maxBytes: null, maxCount: null }, 10 ** 9)).toBeNull();
  });
  it('refuses past either limit, naming usage, the limit and what to do', () => {
    expect(quotaRefusal({ bytes: quota.maxBytes - 100, count: 10 }, quota, 101)?.message).toBe(
      'Upload quota reached: your uploads use 2 GB of your 2 GB and this image needs 101 bytes. Delete uploads you no longer need to free space: in the studio from Library → Uploads, or with DELETE /v1/uploads/{id}.',
    );
    expect(quotaRefusal({ bytes: 1.5 * 1024 ** 3, count: 10 }, { maxBytes: 1.5 * 1024 ** 3, maxCount: null }, 0)?.message).toMatch(/^Upload quota reached: your uploads use 1\.5 GB of your 1\.5 GB\. Delete/);
    const full = quotaRefusal({ bytes: 1024, count: 5000 }, quota, 10);
    expect(full).toMatchObject({ code: 'payload_too_large', details: { quota_bytes: quota.maxBytes, used_bytes: 1024, quota_count: 5000, used_count: 5000 } });
    expect(full?.message).toMatch(/^Upload quota reached: you have 5000 uploads, the most one account can keep \(5000\)\./);
  });
  it('formats sizes in binary units', () => {
    expect([0, 512, 1536, 20 * 1024 ** 2, 2 * 1024 ** 3].map(formatSize)).toEqual(['0 bytes', '512 bytes', '1.5 KB', '20 MB', '2 GB']);
  });
});
