/** Who is calling. Every route declares which kind it accepts (`config.auth`); one hook enforces it. */
export type Actor = { kind: 'user'; userId: string; sessionId: string } | { kind: 'apiKey'; userId: string; keyId: string };

import type { StaffPermission } from '#src/modules/accounts/staff.ts';

export type RouteAuth = 'public' | 'user' | 'apiKey' | `staff:${StaffPermission}`;

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
}

/** The actor of a route that declared `user` or `apiKey` access (the hook has already rejected anonymous calls). */
export function requireActor(actor: Actor | null): Actor {
  if (!actor) throw new Error('route reached without an actor: its auth config is wrong');
  return actor;
}
