import { describe, expect, it } from 'vitest';
import { loadConfig } from '#src/config.ts';
import { countryFrom } from './session-location.ts';

describe('approximate session location', () => {
  it('reads an ISO country code from the proxy header and drops unknown or malformed values', () => {
    expect(countryFrom('DE')).toBe('DE');
    expect(countryFrom(' gb ')).toBe('GB');
    expect(countryFrom(['US', 'CA'])).toBe('US');
    for (const v of [undefined, null, '', 'XX', 'T1', 'ZZ', 'DEU', 'D', '<script>', 'de-DE']) expect(countryFrom(v as string | undefined), String(v)).toBeNull();
  });

  it('uses GEO_COUNTRY_HEADER only behind a trusted proxy (a client could send it otherwise)', () => {
    expect(loadConfig({ GEO_COUNTRY_HEADER: 'cf-ipcountry' }).geoCountryHeader).toBeNull();
    expect(loadConfig({ GEO_COUNTRY_HEADER: 'CloudFront-Viewer-Country', TRUST_PROXY: 'true' }).geoCountryHeader).toBe('cloudfront-viewer-country');
    expect(loadConfig({ TRUST_PROXY: 'true' }).geoCountryHeader).toBeNull();
    expect(() => loadConfig({ GEO_COUNTRY_HEADER: 'cf ipcountry: x', TRUST_PROXY: 'true' })).toThrow(/GEO_COUNTRY_HEADER/);
  });
});
