import { describe, expect, it } from 'vitest';
import { SESSION_TIMEOUTS, sessionExpiry } from './session-policy.ts';
import { delayAfter, THROTTLE } from './sign-in-throttle.ts';
import { describeUserAgent, truncateIp } from './security.service.ts';

const at = (msAgo: number, now: Date) => new Date(now.getTime() - msAgo);

describe('session timeouts', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  const H = 3600_000;
  it('ends a user session after 7 days idle or 30 days in all', () => {
    expect(sessionExpiry({ createdAt: at(29 * 24 * H, now), updatedAt: at(6 * 24 * H, now) }, now, SESSION_TIMEOUTS.user)).toBeNull();
    expect(sessionExpiry({ createdAt: at(8 * 24 * H, now), updatedAt: at(7 * 24 * H, now) }, now, SESSION_TIMEOUTS.user)).toBe('idle');
    expect(sessionExpiry({ createdAt: at(30 * 24 * H, now), updatedAt: now }, now, SESSION_TIMEOUTS.user)).toBe('absolute');
  });
  it('ends a staff session after 30 minutes idle or 12 hours in all', () => {
    expect(sessionExpiry({ createdAt: at(11 * H, now), updatedAt: at(29 * 60_000, now) }, now, SESSION_TIMEOUTS.staff)).toBeNull();
    expect(sessionExpiry({ createdAt: at(H, now), updatedAt: at(30 * 60_000, now) }, now, SESSION_TIMEOUTS.staff)).toBe('idle');
    expect(sessionExpiry({ createdAt: at(12 * H, now), updatedAt: now }, now, SESSION_TIMEOUTS.staff)).toBe('absolute');
  });
});

describe('sign-in delays', () => {
  it('lets 5 failures through, then waits 1 s doubling up to 15 minutes', () => {
    expect([0, 1, 4].map(delayAfter)).toEqual([0, 0, 0]);
    expect([5, 6, 7, 14].map(delayAfter)).toEqual([1000, 2000, 4000, 512_000]);
    expect(delayAfter(15)).toBe(THROTTLE.maxDelayMs);
    expect(delayAfter(99)).toBe(15 * 60_000);
  });
});

describe('session descriptions', () => {
  it('names browser, OS and device from the user agent', () => {
    expect(describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0')).toEqual({ browser: 'Edge 131', os: 'Windows 10', device: 'desktop' });
    expect(describeUserAgent('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36')).toMatchObject({ os: 'Android 14', device: 'mobile' });
    expect(describeUserAgent('curl/8.5.0')).toMatchObject({ device: 'other' });
    expect(describeUserAgent(null)).toEqual({ browser: null, os: null, device: 'other' });
  });
  it('shows only the network part of an IP address', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.x');
    expect(truncateIp('::ffff:198.51.100.9')).toBe('198.51.100.x');
    expect(truncateIp('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(truncateIp('')).toBeNull();
    expect(truncateIp(null)).toBeNull();
  });
});
