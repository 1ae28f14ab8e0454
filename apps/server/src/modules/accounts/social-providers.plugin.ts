import type { BetterAuthPlugin, ValidateUserInfoResult, ValidateUserInfoSource } from 'better-auth';
import { verifyGoogleIdToken } from 'better-auth/social-providers';
import type { Logger } from 'pino';

/**
 * What better-auth 1.7's built-in Google and GitHub providers leave out, found by the tests against fake
 * Google and GitHub servers (social-sign-in.db.test.ts):
 *
 * - Google: the provider sends no `nonce`, and in the redirect flow reads the ID token from the token
 *   endpoint with `decodeJwt` only, so its issuer, audience, expiry and signature go unchecked too. Here
 *   the provider asks better-auth to bind a nonce (`requiresIdTokenNonce`: one is minted per
 *   authorization request, kept in the signed state and handed back to `getUserInfo`), the nonce is
 *   put on the authorization URL, and the ID token is verified (RS256 against Google's JWKS, issuer
 *   accounts.google.com, audience = our client id, age under an hour, nonce) before its profile is read.
 * - Both: an account is not created for an identity whose e-mail the provider has not verified (GitHub
 *   lets anyone add any address, unverified, as their primary e-mail). Otherwise whoever did so holds an
 *   account under someone else's address that its owner may later recover by e-mail and use, while the
 *   GitHub identity still signs in to it (account pre-hijacking). The sign-in ends on the sign-in page
 *   with `?error=email_not_verified`.
 */
type AuthContext = Parameters<NonNullable<BetterAuthPlugin['init']>>[0];
type SocialProvider = AuthContext['socialProviders'][number];

/** Providers whose "verified" flag on the e-mail is reliable enough to require. */
const REQUIRE_VERIFIED_EMAIL = new Set(['google', 'github']);

export function socialProvidersPlugin(deps: { googleClientId?: string | undefined; logger?: Logger | undefined }): BetterAuthPlugin {
  const checkGoogleIdToken = (google: SocialProvider): SocialProvider => ({
    ...google,
    requiresIdTokenNonce: true,
    async createAuthorizationURL(data) {
      if (!data.idTokenNonce) throw new Error('google: no nonce to bind to the authorization request');
      const url = await google.createAuthorizationURL(data);
      url.searchParams.set('nonce', data.idTokenNonce);
      return url;
    },
    async getUserInfo(token) {
      const verified =
        deps.googleClientId && token.idToken && token.expectedIdTokenNonce
          ? await verifyGoogleIdToken({ token: token.idToken, audience: deps.googleClientId, nonce: token.expectedIdTokenNonce })
          : null;
      if (!verified) {
        deps.logger?.warn({ component: 'auth', provider: 'google' }, 'Google sign-in refused: the ID token did not verify (signature, issuer, audience, age or nonce)');
        return null;
      }
      return google.getUserInfo(token);
    },
  });

  const validateUserInfo = ({ user, source }: { user: { emailVerified?: unknown }; source: ValidateUserInfoSource }): ValidateUserInfoResult | undefined => {
    const providerId = source.oauth?.providerId;
    if (source.action !== 'create-user' || source.method !== 'oauth' || !providerId || !REQUIRE_VERIFIED_EMAIL.has(providerId)) return undefined;
    if (user.emailVerified === true) return undefined;
    deps.logger?.warn({ component: 'auth', provider: providerId }, 'sign-up refused: the provider has not verified the e-mail address');
    return { error: 'email_not_verified', errorDescription: 'Verify your e-mail address with the provider first, or sign up with e-mail.' };
  };

  return {
    id: 'atelier-social-providers',
    init: (ctx) => ({
      context: { socialProviders: ctx.socialProviders.map((provider) => (provider.id === 'google' ? checkGoogleIdToken(provider) : provider)) },
      options: { user: { validateUserInfo } },
    }),
  };
}
