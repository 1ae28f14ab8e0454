import { queryOptions } from '@tanstack/react-query';
import { z } from 'zod';
import { authProvidersSchema, profileSchema, type Profile } from '@atelier/contracts';
import { request } from '#/lib/api-client';

/** better-auth's small JSON answers ({ status }, { url, redirect }): only the fields we read. */
const statusSchema = z.looseObject({});
const redirectSchema = z.looseObject({ url: z.string() });

export const authProvidersQuery = queryOptions({
  queryKey: ['auth-providers'] as const,
  queryFn: ({ signal }) => request('/api/auth-providers', { schema: authProvidersSchema, signal }),
  staleTime: Infinity,
});

export const profileQuery = queryOptions({
  queryKey: ['me', 'profile'] as const,
  queryFn: ({ signal }): Promise<Profile> => request('/api/me/profile', { schema: profileSchema, signal }),
  staleTime: 60_000,
});

/** Sends the browser to the provider; it comes back to `callbackURL` (or /sign-in?error=… when refused). */
export async function startSocialSignIn(provider: string, callbackURL: string) {
  const { url } = await request('/api/auth/sign-in/social', { method: 'POST', body: { provider, callbackURL, errorCallbackURL: '/sign-in' }, schema: redirectSchema });
  window.location.assign(url);
}

/** Links a provider identity to the signed-in account (settings → Connected accounts). */
export async function startLinkSocial(provider: string) {
  const { url } = await request('/api/auth/link-social', { method: 'POST', body: { provider, callbackURL: '/settings?linked=1', errorCallbackURL: '/settings' }, schema: redirectSchema });
  window.location.assign(url);
}

export const unlinkAccount = (providerId: string) => request('/api/auth/unlink-account', { method: 'POST', body: { providerId }, schema: statusSchema });
export const requestPasswordReset = (email: string) => request('/api/auth/request-password-reset', { method: 'POST', body: { email, redirectTo: '/reset-password' }, schema: statusSchema });
export const resetPassword = (token: string, newPassword: string) => request('/api/auth/reset-password', { method: 'POST', body: { token, newPassword }, schema: statusSchema });
export const requestMagicLink = (email: string, next: string) =>
  request('/api/auth/sign-in/magic-link', { method: 'POST', body: { email, callbackURL: next, errorCallbackURL: '/sign-in?link=failed' }, schema: statusSchema });
export const resendVerification = (email: string) => request('/api/auth/send-verification-email', { method: 'POST', body: { email, callbackURL: '/email-verified' }, schema: statusSchema });
export const confirmAge = () => request('/api/me/confirm-age', { method: 'POST', body: { confirmed: true }, schema: profileSchema });
export const renameProfile = (name: string) => request('/api/me', { method: 'PATCH', body: { name }, schema: profileSchema });
export const removeAvatar = () => request('/api/me/avatar', { method: 'DELETE', schema: profileSchema });

/** Messages for the codes better-auth puts in ?error= when a link or a provider callback is refused. */
export function describeAuthRedirectError(code: string): string {
  switch (code.toUpperCase()) {
    case 'INVALID_TOKEN':
      return 'This link is not valid any more: it was already used or it has expired. Ask for a new one.';
    case 'TOKEN_EXPIRED':
    case 'EXPIRED_TOKEN':
      return 'This link has expired. Ask for a new one.';
    case 'ACCOUNT_NOT_LINKED':
      return 'An account with this e-mail already exists. Sign in with your password (or a sign-in link), then connect this provider in Settings → Connected accounts.';
    case 'STATE_MISMATCH':
    case 'PLEASE_RESTART_THE_PROCESS':
    case 'STATE_NOT_FOUND':
      return 'The sign-in could not be completed (it was started in another tab or took too long). Please try again.';
    case 'ISSUER_MISMATCH':
    case 'UNABLE_TO_GET_USER_INFO':
    case 'INVALID_CODE':
      return 'The sign-in provider’s answer could not be verified, so you were not signed in. Please try again, or contact the operator if it keeps happening.';
    case 'NEW_USER_SIGNUP_DISABLED':
      return 'No account uses this e-mail address. Create an account first.';
    case 'EMAIL_NOT_VERIFIED':
      return 'The provider has not verified this e-mail address, so no account was created. Verify it with the provider first, or create an account with your e-mail.';
    case 'ACCOUNT_ALREADY_LINKED_TO_DIFFERENT_USER':
      return 'This identity is already connected to another Atelier account.';
    case 'SIGNUP_DISABLED':
      return 'Creating accounts this way is turned off.';
    default:
      return 'That did not work. Please try again.';
  }
}
