import { z } from 'zod';

/** Re-authentication (POST /api/me/reauthenticate): the password, or a code from the authenticator app (or a recovery code). */
export const reauthenticateSchema = z.union([
  z.object({ password: z.string().min(1).max(1024) }).strict(),
  z.object({ code: z.string().trim().min(6).max(32) }).strict(),
]);
export type Reauthenticate = z.infer<typeof reauthenticateSchema>;
export const reauthenticatedSchema = z.object({ reauthenticated_until: z.string().describe('Sensitive actions are allowed until this time') });

/** One active session of the signed-in user. Tokens never leave the server. */
export const sessionInfoSchema = z.object({
  id: z.string(),
  current: z.boolean().describe('The session making this request'),
  browser: z.string().nullable(),
  os: z.string().nullable(),
  device: z.enum(['desktop', 'mobile', 'tablet', 'other']),
  ip: z.string().nullable().describe('Truncated: the last IPv4 octet or the IPv6 interface part is hidden'),
  location: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .nullable()
    .describe('ISO 3166-1 alpha-2 country the operator’s proxy or CDN reported (GEO_COUNTRY_HEADER), at sign-in and with last seen; null when unknown'),
  created_at: z.string(),
  last_seen_at: z.string(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;
export const sessionListSchema = z.object({ data: z.array(sessionInfoSchema) });

/** Security settings summary for the studio. */
export const securityStatusSchema = z.object({
  two_factor_enabled: z.boolean(),
  has_password: z.boolean(),
});
export type SecurityStatus = z.infer<typeof securityStatusSchema>;
