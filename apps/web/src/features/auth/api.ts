import { queryOptions } from '@tanstack/react-query';
import { z } from 'zod';
import { CAPTCHA_HEADER, meSchema, type Me } from '@atelier/contracts';
import { isApiError, request } from '#/lib/api-client';

// better-auth answers sign-in/up with its own shape; we only rely on it being an object.
const authResultSchema = z.looseObject({});

export const meQuery = queryOptions({
  queryKey: ['me'] as const,
  queryFn: async ({ signal }): Promise<Me | null> => {
    try {
      return await request('/api/me', { schema: meSchema, signal });
    } catch (error) {
      if (isApiError(error) && error.status === 401) return null;
      throw error;
    }
  },
  staleTime: 5 * 60_000,
});

/** `captcha`: a solved sign-in challenge (captcha.ts), which the server asks for after 5 failed attempts. */
export function signIn(input: { email: string; password: string }, captcha?: string) {
  return request('/api/auth/sign-in/email', { method: 'POST', body: input, schema: authResultSchema, ...(captcha ? { headers: { [CAPTCHA_HEADER]: captcha } } : {}) });
}

export function signUp(input: { email: string; password: string; name: string; ageConfirmed: boolean }) {
  // callbackURL: where the verification link lands (routes/email-verified.tsx).
  return request('/api/auth/sign-up/email', { method: 'POST', body: { ...input, callbackURL: '/email-verified' }, schema: authResultSchema });
}

export function signOut() {
  return request('/api/auth/sign-out', { method: 'POST', body: {}, schema: authResultSchema.optional() });
}

/** Which form field a better-auth error code is about, so it can be shown next to that field. */
export function fieldForAuthError(code: string): 'email' | 'password' | 'name' | null {
  if (code.startsWith('USER_ALREADY_EXISTS') || code.startsWith('INVALID_EMAIL_FORMAT') || code === 'INVALID_EMAIL') return 'email';
  if (code.startsWith('PASSWORD_TOO') || code === 'PASSWORD_REFUSED') return 'password';
  return null;
}
