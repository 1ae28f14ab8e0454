import type { BetterAuthPlugin } from 'better-auth';

/**
 * Approximate location for the sessions list (issue 5): the country a trusted proxy or CDN reports for
 * the client in a header the operator names (GEO_COUNTRY_HEADER: `cf-ipcountry`, `cloudfront-viewer-
 * country`, …). config.ts leaves the header unset unless TRUST_PROXY is on: without a proxy in front,
 * the header would be whatever the client chose to send. No IP database is shipped or consulted.
 */

/** An ISO 3166-1 alpha-2 code from a header value; null for missing, malformed or "unknown" values (Cloudflare's XX, T1 for Tor). */
export function countryFrom(value: string | string[] | null | undefined): string | null {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim().toUpperCase();
  if (!raw || !/^[A-Z]{2}$/.test(raw) || raw === 'XX' || raw === 'ZZ') return null;
  return raw;
}

/** Records the country on every session better-auth creates (sign-in, OAuth, magic link, 2FA, rotation). */
export const sessionLocationPlugin = (header: string): BetterAuthPlugin => ({
  id: 'atelier-session-location',
  init: () => ({
    options: {
      databaseHooks: {
        session: {
          create: {
            before: async (session, ctx) => ({ data: { ...session, country: countryFrom(ctx?.headers?.get(header)) } }),
          },
        },
      },
    },
  }),
});
