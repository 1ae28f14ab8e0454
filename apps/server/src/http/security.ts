import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { AppError } from '#src/lib/errors.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Response headers (strict CSP without unsafe-inline, HSTS behind TLS, nosniff, no framing) and CSRF
 * protection for cookie-authenticated writes: Fetch Metadata first, the Origin header as the fallback
 * for browsers that send no Sec-Fetch-Site.
 */
export async function registerSecurity(app: FastifyInstance, opts: { publicUrl: string; isHttps: boolean }): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'blob:', 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        ...(opts.isHttps ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: opts.isHttps ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
  });

  const allowedOrigin = new URL(opts.publicUrl).origin;
  app.addHook('onRequest', async (request, reply) => {
    if (SAFE_METHODS.has(request.method)) return;
    // API-key calls carry no ambient credentials, so they cannot be forged cross-site.
    if (!request.headers.cookie) return;
    reply.header('Vary', 'Sec-Fetch-Site, Origin');
    const site = request.headers['sec-fetch-site'];
    if (site === 'same-origin' || site === 'none') return;
    if (site === undefined) {
      const origin = request.headers.origin;
      const host = request.headers.host;
      if (origin === undefined || origin === allowedOrigin || (host !== undefined && sameHost(origin, host))) return;
    }
    throw new AppError('csrf_rejected', 'Cross-site request refused. Use the studio, or an API key with the /v1 API.');
  });
}

function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
