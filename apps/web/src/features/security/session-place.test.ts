import { describe, expect, it } from 'vitest';
import { countryName, describePlace } from './session-place';

describe('session place', () => {
  it('names the country next to the truncated IP', () => {
    expect(describePlace({ location: 'DE', ip: '203.0.113.x' }, 'en')).toBe('Germany · 203.0.113.x');
    expect(describePlace({ location: 'DE', ip: null }, 'de')).toBe('Deutschland');
    expect(describePlace({ location: null, ip: '2001:db8:1:2::/64' }, 'en')).toBe('2001:db8:1:2::/64');
    expect(describePlace({ location: null, ip: null }, 'en')).toBe('Unknown network');
  });

  it('falls back to the code for a region the browser cannot name', () => {
    expect(countryName('JP', 'en')).toBe('Japan');
    expect(countryName('!!', 'en')).toBe('!!');
  });
});
