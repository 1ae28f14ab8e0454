import type { SessionInfo } from '@atelier/contracts';

let regions: Intl.DisplayNames | null | undefined;

/** "DE" → "Germany", in the browser's language; the code itself where the browser has no name for it. */
export function countryName(code: string, locales?: string | string[]): string {
  try {
    const names = locales ? new Intl.DisplayNames(locales, { type: 'region' }) : (regions ??= new Intl.DisplayNames(undefined, { type: 'region' }));
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}

/** Where a session is, as far as the server knows: "Germany · 203.0.113.x", either half alone, or "Unknown network". */
export function describePlace(session: Pick<SessionInfo, 'location' | 'ip'>, locales?: string | string[]): string {
  return [session.location ? countryName(session.location, locales) : null, session.ip].filter(Boolean).join(' · ') || 'Unknown network';
}
