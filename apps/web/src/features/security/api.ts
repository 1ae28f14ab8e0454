import { queryOptions } from '@tanstack/react-query';
import { z } from 'zod';
import { reauthenticatedSchema, securityStatusSchema, sessionListSchema, type Reauthenticate } from '@atelier/contracts';
import { request } from '#/lib/api-client';

/** Two-factor authentication is better-auth's (/api/auth/two-factor/*); sessions and re-authentication are ours (/api/me/*). */
export const securityStatusQuery = queryOptions({
  queryKey: ['me', 'security'] as const,
  queryFn: ({ signal }) => request('/api/me/security', { schema: securityStatusSchema, signal }),
});

export const sessionsQuery = queryOptions({
  queryKey: ['me', 'sessions'] as const,
  queryFn: async ({ signal }) => (await request('/api/me/sessions', { schema: sessionListSchema, signal })).data,
});

export const revokeSession = (id: string) => request(`/api/me/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
export const revokeOtherSessions = () => request('/api/me/sessions/revoke-others', { method: 'POST', schema: z.object({ revoked: z.number() }) });
export const reauthenticate = (input: Reauthenticate) => request('/api/me/reauthenticate', { method: 'POST', body: input, schema: reauthenticatedSchema });

const enabledSchema = z.object({ totpURI: z.string(), backupCodes: z.array(z.string()) });
const okSchema = z.looseObject({});

export const startTwoFactor = (password: string) => request('/api/auth/two-factor/enable', { method: 'POST', body: { password }, schema: enabledSchema });
/** With a session: confirms the setup. During sign-in (the two_factor cookie): completes it. */
export const verifyTotp = (code: string) => request('/api/auth/two-factor/verify-totp', { method: 'POST', body: { code }, schema: okSchema });
export const verifyRecoveryCode = (code: string) => request('/api/auth/two-factor/verify-backup-code', { method: 'POST', body: { code }, schema: okSchema });
export const disableTwoFactor = (input: { password: string; code: string }) => request('/api/auth/two-factor/disable', { method: 'POST', body: input, schema: okSchema });
export const regenerateRecoveryCodes = (password: string) =>
  request('/api/auth/two-factor/generate-backup-codes', { method: 'POST', body: { password }, schema: z.object({ backupCodes: z.array(z.string()) }) });

/** The secret in an otpauth:// URI, grouped in fours for typing into an authenticator by hand. */
export function manualEntryKey(totpURI: string): string {
  const secret = new URL(totpURI).searchParams.get('secret') ?? '';
  return secret.replace(/(.{4})/g, '$1 ').trim();
}
