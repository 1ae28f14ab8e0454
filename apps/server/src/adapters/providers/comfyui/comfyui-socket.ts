import { z } from 'zod';

/**
 * One WebSocket per ComfyUI server (`GET /ws?clientId=<id>`, providers.md §4.2), caching the latest
 * event per prompt so `poll` can report progress while `/history/{id}` is still `{}`. ComfyUI sends a
 * prompt's events only to the socket whose clientId equals the prompt's `client_id`, so the engine
 * submits with the same id it connects with. The socket is an optimisation: when it is down, poll
 * falls back to the history and the queue, and the socket reconnects while prompts are in flight.
 */

export type WebSocketConstructor = typeof globalThis.WebSocket;

/** `stale`: the socket dropped since the last event, so events may have been missed. */
export type PromptEventState = 'running' | 'finished' | 'error' | 'interrupted' | 'stale';
export interface PromptEvents {
  state: PromptEventState;
  /** value / max of the last `progress` event, 0–1; null before the sampler reported. */
  progress: number | null;
  at: number;
}

export interface ServerSocket {
  /** Opens the socket unless it is open or connecting (before a submit, so no event is missed). */
  open(): void;
  /** Keeps the socket open (reconnecting) while the prompt is in flight. */
  track(promptId: string): void;
  /** Stops caring about a prompt (finished, failed or canceled). */
  forget(promptId: string): void;
  get(promptId: string): PromptEvents | undefined;
  /** Calls `listener` on every event about the prompt; returns the unsubscribe function. */
  subscribe(promptId: string, listener: () => void): () => void;
  isOpen(): boolean;
  close(): void;
}

export interface ServerSocketOptions {
  server: string;
  clientId: string;
  WebSocket: WebSocketConstructor;
  authorization: string | null;
  /** Close an idle socket (no tracked prompts) after this long. */
  idleMs: number;
  now?: () => number;
  /** First reconnect delay; doubles up to 30 s. */
  reconnectMs?: number;
}

const MAX_CACHED = 1000;
/** A prompt nobody has polled for this long (the job gave up on it) no longer keeps the socket open. */
const TRACK_TTL_MS = 60 * 60 * 1000;
const MAX_RECONNECT_MS = 30_000;

// Lenient: ComfyUI adds fields (display_node, node, timestamp, …) from release to release.
const eventSchema = z.object({ type: z.string(), data: z.record(z.string(), z.unknown()).catch({}) });
const progressSchema = z.object({ prompt_id: z.string(), value: z.number(), max: z.number().positive() });
const promptIdSchema = z.object({ prompt_id: z.string() });

export function socketUrl(server: string, clientId: string): string {
  const url = new URL(`${server}/ws`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('clientId', clientId);
  return url.href;
}

export function createServerSocket(opts: ServerSocketOptions): ServerSocket {
  const now = opts.now ?? Date.now;
  const cache = new Map<string, PromptEvents>();
  /** In-flight prompts → when they were last submitted or polled. */
  const tracked = new Map<string, number>();
  const hasTracked = () => {
    const cutoff = now() - TRACK_TTL_MS;
    for (const [id, at] of tracked) if (at < cutoff) tracked.delete(id);
    return tracked.size > 0;
  };
  let socket: InstanceType<WebSocketConstructor> | null = null;
  let closed = false;
  let reconnectDelay = opts.reconnectMs ?? 1000;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let idleTimer: NodeJS.Timeout | null = null;

  const listeners = new Map<string, Set<() => void>>();
  const remember = (promptId: string, update: (prev: PromptEvents | undefined) => PromptEvents) => {
    const next = update(cache.get(promptId));
    cache.delete(promptId); // re-insert so the Map's order is least recently updated first
    cache.set(promptId, next);
    if (cache.size > MAX_CACHED) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    for (const listener of [...(listeners.get(promptId) ?? [])]) listener();
  };

  const onMessage = (raw: unknown) => {
    // Binary frames are previews (4-byte event type + image); only JSON text frames matter here.
    if (typeof raw !== 'string') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return;
    }
    const event = eventSchema.safeParse(json);
    if (!event.success) return;
    const { type, data } = event.data;
    const at = now();
    if (type === 'progress') {
      const p = progressSchema.safeParse(data);
      if (p.success) remember(p.data.prompt_id, () => ({ state: 'running', progress: Math.min(1, Math.max(0, p.data.value / p.data.max)), at }));
      return;
    }
    const id = promptIdSchema.safeParse(data);
    if (!id.success) return;
    const promptId = id.data.prompt_id;
    const set = (state: PromptEventState) => remember(promptId, (prev) => ({ state, progress: prev?.progress ?? null, at }));
    if (type === 'execution_start') set('running');
    // `executing {node: null}` is sent after the history entry is written: the prompt is done.
    else if (type === 'executing') set(data.node === null ? 'finished' : 'running');
    else if (type === 'execution_success') set('finished');
    else if (type === 'execution_error') set('error');
    else if (type === 'execution_interrupted') set('interrupted');
  };

  const scheduleIdleClose = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (hasTracked() || !socket) return;
    idleTimer = setTimeout(() => {
      if (!hasTracked()) disconnect();
    }, opts.idleMs);
    idleTimer.unref();
  };

  const disconnect = () => {
    const s = socket;
    socket = null;
    s?.close(1000, 'idle');
  };

  const connect = () => {
    if (closed || socket) return;
    const headers: Record<string, string> = opts.authorization ? { authorization: opts.authorization } : {};
    let s: InstanceType<WebSocketConstructor>;
    try {
      s = new opts.WebSocket(socketUrl(opts.server, opts.clientId), { headers });
    } catch {
      return scheduleReconnect();
    }
    s.binaryType = 'arraybuffer';
    socket = s;
    s.addEventListener('open', () => {
      reconnectDelay = opts.reconnectMs ?? 1000;
    });
    s.addEventListener('message', (ev) => onMessage(ev.data));
    // 'error' is always followed by 'close'; reconnecting happens there.
    s.addEventListener('error', () => undefined);
    s.addEventListener('close', () => {
      if (socket !== s) return;
      socket = null;
      // Events sent while we are away are lost (a restarted server may not even know the prompt).
      for (const [id, e] of cache) if (e.state === 'running') cache.set(id, { ...e, state: 'stale' });
      scheduleReconnect();
    });
  };

  const scheduleReconnect = () => {
    if (closed || reconnectTimer || !hasTracked()) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      if (hasTracked()) connect();
    }, reconnectDelay);
    reconnectTimer.unref();
    reconnectDelay = Math.min(MAX_RECONNECT_MS, reconnectDelay * 2);
  };

  return {
    open() {
      if (!reconnectTimer) connect();
      scheduleIdleClose();
    },
    track(promptId) {
      tracked.set(promptId, now());
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
      if (!reconnectTimer) connect();
    },
    forget(promptId) {
      tracked.delete(promptId);
      cache.delete(promptId);
      scheduleIdleClose();
    },
    get: (promptId) => cache.get(promptId),
    subscribe(promptId, listener) {
      const set = listeners.get(promptId) ?? new Set();
      set.add(listener);
      listeners.set(promptId, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(promptId);
      };
    },
    isOpen: () => socket !== null && socket.readyState === socket.OPEN,
    close() {
      closed = true;
      tracked.clear();
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (idleTimer) clearTimeout(idleTimer);
      disconnect();
    },
  };
}
