import type { BetterAuthOptions } from 'better-auth';
import { APIError, createAuthMiddleware } from 'better-auth/api';
import { genericOAuth, magicLink } from 'better-auth/plugins';
import type { Logger } from 'pino';
import type { IdentityConfig } from '#src/config.ts';
import { redactEmail, type Mailer } from '#src/adapters/mail/mailer.ts';
import { magicLinkMail, resetPasswordMail, verifyEmailMail } from '#src/adapters/mail/templates.ts';
import { noteRefusalReason } from './auth-refusals.ts';
import { passwordProblem } from './password-policy.ts';
import { socialProvidersPlugin } from './social-providers.plugin.ts';

/**
 * The identity half of the better-auth configuration (auth.ts composes it): third-party sign-in,
 * e-mail verification, password reset, magic links, the age gate and the password policy.
 *
 * - Identity is the provider's (issuer, subject): `accounts.account_id` holds the subject and
 *   `accounts.issuer` the issuer (migration 0006); an OIDC sign-in whose ID token names another issuer
 *   than the configured one is refused.
 * - No implicit linking: a provider identity whose e-mail matches an existing account does not sign in
 *   to it; the owner links it while signed in (settings → Connected accounts → Connect).
 * - Provider access, refresh and ID tokens are not kept: nothing here calls provider APIs later.
 * - Google ID tokens are verified with a nonce, and Google/GitHub identities whose e-mail the provider
 *   has not verified cannot create an account (social-providers.plugin.ts).
 */
export const OIDC_PROVIDER_ID = 'oidc';
export const VERIFY_EXPIRES_SECONDS = 24 * 3600;
export const RESET_EXPIRES_SECONDS = 3600;
export const MAGIC_LINK_EXPIRES_SECONDS = 600;

export interface IdentityDeps {
  identity?: IdentityConfig | undefined;
  mailer?: Mailer | undefined;
  logger?: Logger | undefined;
}

/** The payload of an ID token better-auth has already verified (signature, issuer, audience, nonce). */
function readClaims(idToken: string): { iss?: string; sub?: string } | null {
  try {
    return JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: string; sub?: string };
  } catch {
    return null;
  }
}

const ISSUERS: Record<string, string> = { google: 'https://accounts.google.com', github: 'https://github.com' };

/** A mail is sent in the background: the response (and its timing) must not depend on whether the address has an account. */
function sendInBackground(deps: IdentityDeps, kind: string, to: string, build: () => Parameters<Mailer['send']>[0]): void {
  if (!deps.mailer) return;
  deps.mailer.send(build()).catch((error: unknown) => deps.logger?.error({ err: error, kind, to: redactEmail(to) }, 'could not send mail'));
}

export function identityOptions(deps: IdentityDeps) {
  const identity = deps.identity;
  const minAge = identity?.minAge ?? 13;
  const oidc = identity?.oidc ?? null;
  const issuerOf = (providerId: string) => (providerId === OIDC_PROVIDER_ID ? oidc?.issuer : ISSUERS[providerId]) ?? null;
  const withoutTokens = { accessToken: null, refreshToken: null, idToken: null, accessTokenExpiresAt: null, refreshTokenExpiresAt: null };

  const socialProviders: BetterAuthOptions['socialProviders'] = {
    // Only the redirect flow: an ID token posted to /sign-in/social by a client is not accepted.
    ...(identity?.google ? { google: { ...identity.google, scope: ['openid', 'email', 'profile'], disableIdTokenSignIn: true } } : {}),
    ...(identity?.github ? { github: { ...identity.github, scope: ['read:user', 'user:email'] } } : {}),
  };

  const plugins = [
    socialProvidersPlugin({ googleClientId: identity?.google?.clientId, logger: deps.logger }),
    ...(oidc
      ? [
          genericOAuth({
            config: [
              {
                providerId: OIDC_PROVIDER_ID,
                name: oidc.name,
                discoveryUrl: `${oidc.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
                clientId: oidc.clientId,
                clientSecret: oidc.clientSecret,
                scopes: ['openid', 'email', 'profile'],
                pkce: true,
                // ID tokens are verified against the discovered JWKS, issuer, audience and the request's nonce.
                requireIdTokenVerification: true,
                // better-auth checks the ID token against the *discovered* issuer; OIDC Discovery §4.3 requires it
                // to be the configured one, so the subject is accepted only from that issuer.
                accountSubject: ({ tokens }) => {
                  const claims = tokens.idToken ? readClaims(tokens.idToken) : null;
                  if (!claims?.sub || claims.iss !== oidc.issuer) {
                    deps.logger?.warn({ component: 'auth', expected: oidc.issuer, received: claims?.iss }, 'OIDC sign-in refused: the ID token names another issuer');
                    noteRefusalReason('id_token_issuer_mismatch');
                    throw new Error('issuer mismatch');
                  }
                  return claims.sub;
                },
              },
            ],
          }),
        ]
      : []),
    ...(identity?.magicLink !== false
      ? [
          magicLink({
            expiresIn: MAGIC_LINK_EXPIRES_SECONDS,
            storeToken: 'hashed',
            // Magic links sign in to existing accounts only: signing up needs the age confirmation.
            disableSignUp: true,
            sendMagicLink: async ({ email, url }, ctx) => {
              const found = await ctx?.context.internalAdapter.findUserByEmail(email);
              // Unknown addresses get no mail, and the same answer as known ones.
              if (!found) return;
              sendInBackground(deps, 'magic-link', email, () => magicLinkMail(email, url));
            },
          }),
        ]
      : []),
  ];

  return {
    socialProviders,
    plugins,
    emailVerification: {
      sendOnSignUp: true,
      autoSignInAfterVerification: false,
      expiresIn: VERIFY_EXPIRES_SECONDS,
      sendVerificationEmail: async ({ user, url }) => sendInBackground(deps, 'verify-email', user.email, () => verifyEmailMail(user.email, url)),
    } satisfies BetterAuthOptions['emailVerification'],
    emailAndPassword: {
      resetPasswordTokenExpiresIn: RESET_EXPIRES_SECONDS,
      revokeSessionsOnPasswordReset: true,
      sendResetPassword: async ({ user, url }) => sendInBackground(deps, 'reset-password', user.email, () => resetPasswordMail(user.email, url)),
    } satisfies Partial<NonNullable<BetterAuthOptions['emailAndPassword']>>,
    userFields: {
      ageConfirmed: { type: 'boolean', required: false, defaultValue: false, input: true, fieldName: 'age_confirmed' },
      avatarKey: { type: 'string', required: false, input: false, returned: false, fieldName: 'avatar_key' },
    } as const,
    accountFields: { issuer: { type: 'string', required: false, input: false, returned: false, fieldName: 'issuer' } } as const,
    accountLinking: {
      enabled: true,
      disableImplicitLinking: true,
      // Linking happens only while signed in to the account: that is the proof of ownership.
      allowDifferentEmails: true,
      trustedProviders: [],
    },
    databaseHooks: {
      account: {
        create: { before: async (account: Record<string, unknown> & { providerId: string }) => ({ data: { ...account, ...withoutTokens, issuer: issuerOf(account.providerId) } }) },
        update: { before: async (account: Record<string, unknown>) => ({ data: { ...account, ...withoutTokens } }) },
      },
    },
    /** Runs before better-auth's endpoints: the age gate and the password policy, with messages for people. */
    beforeHook: createAuthMiddleware(async (ctx) => {
      const body = (ctx.body ?? {}) as Record<string, unknown>;
      if (ctx.path === '/sign-up/email' && ctx.request && body.ageConfirmed !== true) {
        throw new APIError('BAD_REQUEST', { code: 'AGE_NOT_CONFIRMED', message: `Confirm that you are at least ${minAge} years old to create an account.` });
      }
      const candidate = ctx.path === '/sign-up/email' ? body.password : ['/reset-password', '/change-password', '/set-password'].includes(ctx.path) ? body.newPassword : undefined;
      if (typeof candidate === 'string') {
        const problem = passwordProblem(candidate);
        if (problem) throw new APIError('BAD_REQUEST', { code: 'PASSWORD_REFUSED', message: problem });
      }
    }),
  };
}
