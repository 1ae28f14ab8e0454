import type { buildConnector as BuildConnector } from 'undici';

/**
 * Routes real HTTPS host names (accounts.google.com, api.github.com, …) to fake servers on loopback,
 * inside this test process only: no DNS, /etc/hosts or proxy change, and nothing outside the process
 * sees it. better-auth hard-codes Google's and GitHub's endpoints and calls them with the global
 * `fetch`, so the routing is a global fetch dispatcher whose connector sends the mapped names to the
 * fakes' ports — still over TLS, with the host name as SNI and the certificate checked against it,
 * trusting only the fake's own self-signed certificate for it. Every other host connects as before.
 * A Google or GitHub host that no fake serves is refused, so a test can never reach the real one.
 *
 * How this reaches Node's own `fetch`: Node 22's built-in fetch is its bundled undici 6, which reads
 * its dispatcher from `globalThis[Symbol.for('undici.globalDispatcher.1')]`. The undici 8 package
 * keeps its own in `Symbol.for('undici.globalDispatcher.2')` and, in `setGlobalDispatcher`, also
 * writes the `.1` slot with a `Dispatcher1Wrapper` that adapts its new handler API to the old one.
 * So `setGlobalDispatcher(new Agent(...))` from undici 8 does steer Node's global fetch (a test in
 * social-sign-in.db.test.ts checks it). Merely importing undici 8 also replaces the `.1` slot with
 * its own default agent, which is why undici is imported only here, after Node's dispatcher is saved,
 * and why restore() puts both slots back as they were.
 */
export interface HostRoute {
  /** Host names the fake answers for (its certificate names them). */
  hosts: readonly string[];
  /** Its port on 127.0.0.1. */
  port: number;
  /** The certificate (PEM) to trust for these hosts, and only for them. */
  ca: string;
}

export interface RoutedHosts {
  /** Puts the previous global dispatcher back and closes the connections made through this one. */
  restore(): Promise<void>;
}

/** Hosts of the two providers; any of them without a fake is refused rather than reached. */
const GUARDED_HOSTS = /(^|\.)(google\.com|googleapis\.com|googleusercontent\.com|gstatic\.com|github\.com|githubusercontent\.com|githubassets\.com)$/i;

const DISPATCHER_V1 = Symbol.for('undici.globalDispatcher.1');
const DISPATCHER_V2 = Symbol.for('undici.globalDispatcher.2');

export class UnroutedHostError extends Error {
  constructor(host: string) {
    super(`tls-hosts: ${host} has no fake server in this test; refusing to connect to the real one`);
    this.name = 'UnroutedHostError';
  }
}

export async function routeHostsToFakes(routes: readonly HostRoute[]): Promise<RoutedHosts> {
  const slots = globalThis as unknown as Record<symbol, unknown>;
  const previousV1 = slots[DISPATCHER_V1];
  const undici = await import('undici');
  const previousV2 = slots[DISPATCHER_V2];

  const byHost = new Map<string, { port: number; connect: BuildConnector.connector }>();
  for (const route of routes) {
    const connect = undici.buildConnector({ ca: route.ca });
    for (const host of route.hosts) byHost.set(host.toLowerCase(), { port: route.port, connect });
  }
  const passThrough = undici.buildConnector({});

  const connect: BuildConnector.connector = (options, callback) => {
    const host = options.hostname.toLowerCase();
    const route = byHost.get(host);
    if (route) {
      if (options.protocol !== 'https:') return callback(new Error(`tls-hosts: ${host} is served over HTTPS only`), null);
      // TCP to the fake's loopback port; TLS with the real name as SNI and for the certificate check.
      return route.connect({ ...options, hostname: '127.0.0.1', host: `127.0.0.1:${route.port}`, port: String(route.port), servername: host }, callback);
    }
    if (GUARDED_HOSTS.test(host)) return callback(new UnroutedHostError(host), null);
    return passThrough(options, callback);
  };
  const agent = new undici.Agent({ connect });
  undici.setGlobalDispatcher(agent);
  if (slots[DISPATCHER_V1] === previousV1) throw new Error('tls-hosts: undici did not install a dispatcher for the built-in fetch');

  let restored = false;
  return {
    async restore() {
      if (restored) return;
      restored = true;
      // The slots are writable but not configurable: assign, never delete.
      slots[DISPATCHER_V1] = previousV1;
      slots[DISPATCHER_V2] = previousV2;
      await agent.close();
    },
  };
}
