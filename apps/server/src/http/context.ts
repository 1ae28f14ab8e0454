/** Who is calling. Every route declares which kind it accepts (`config.auth`); one hook enforces it. */
export type Actor = { kind: 'user'; userId: string; sessionId: string } | { kind: 'apiKey'; userId: string; keyId: string };

import type { ApiKeyScope } from '@atelier/contracts';
import type { StaffPermission } from '#src/modules/accounts/staff.ts';

export type RouteAuth = 'public' | 'user' | 'apiKey' | `staff:${StaffPermission}`;

/**
 * What a staff route writes to the audit log before its handler runs (http/staff-audit.ts), or
 * 'service' when its service records the event inside its own transaction (role grants).
 */
export type RouteAudit =
  | 'service'
  | {
      /** Past tense, dotted: `content.generation_viewed`. */
      action: string;
      targetType?: string;
      /** Content access: the caller must state why (header `x-access-reason` or query `reason`); the reason is logged. */
      requiresReason?: boolean;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** The scope an API key needs for this route on /v1; the studio surface (/api) ignores it. */
    scope?: ApiKeyScope;
    /** Required on every staff route. */
    audit?: RouteAudit;
    /** A sensitive action: the session must have signed in or re-authenticated in the last 5 minutes, else 403 `reauth_required` (SEC-6). */
    recentAuth?: boolean;
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
