import { z } from 'zod';

/** GET /api/auth-providers: which sign-in options the studio shows (public). */
export const authProvidersSchema = z.object({
  /** Third-party providers, in the order the buttons appear. `id` is better-auth's provider id. */
  social: z.array(z.object({ id: z.string(), name: z.string(), kind: z.enum(['google', 'github', 'oidc']) })),
  magic_link: z.boolean(),
  min_age: z.number().int(),
  /** Whether mail really leaves the server (false: written to the operator's outbox). */
  smtp: z.boolean(),
});
export type AuthProviders = z.infer<typeof authProvidersSchema>;

export const profileSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  email_verified: z.boolean(),
  age_confirmed: z.boolean(),
  has_avatar: z.boolean(),
  /** Sign-in methods: 'credential' (password) and provider ids. */
  sign_in_methods: z.array(z.string()),
});
export type Profile = z.infer<typeof profileSchema>;

export const updateProfileSchema = z.object({ name: z.string().trim().min(1, 'enter a name').max(100) }).strict();
export const confirmAgeSchema = z.object({ confirmed: z.literal(true, 'confirm your age to continue') }).strict();
