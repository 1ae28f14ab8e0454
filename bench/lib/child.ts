/**
 * A helper process with a request/answer protocol over IPC (child_process.fork), for things a benchmark runs
 * outside its own process: fake engines (so their work is not counted as Atelier's and does not run on
 * Atelier's event loop), or a whole Atelier per configuration.
 *
 *   child → parent  { type: 'ready', ...info }                     once, when it is up
 *   parent → child  { callId, type, ...payload }                   a request
 *   child → parent  { callId, ok: true, value } | { callId, ok: false, error }
 *   parent → child  { callId, type: 'close' }                      close what you hold and exit
 *
 * Options go to the child as JSON in argv[2]. A child whose parent goes away closes itself.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface Child<Info> {
  info: Info;
  pid: number;
  call<T>(type: string, payload?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

interface Answer {
  callId: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export async function forkChild<Info>(file: string, options: unknown, opts: { name: string; startTimeoutMs?: number; env?: NodeJS.ProcessEnv } = { name: 'child' }): Promise<Child<Info>> {
  const child: ChildProcess = fork(file, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...(opts.env ? { env: opts.env } : {}) });
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${opts.name} did not start within ${opts.startTimeoutMs ?? 30_000} ms`));
    }, opts.startTimeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${opts.name} exited early (code ${code})`)));
    child.once('message', (m: unknown) => {
      clearTimeout(timer);
      const { type: _type, ...rest } = m as { type: string };
      resolve(rest as Info);
    });
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  child.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  child.on('message', (m: unknown) => {
    const answer = m as Answer;
    const waiter = pending.get(answer.callId);
    if (!waiter) return;
    pending.delete(answer.callId);
    clearTimeout(waiter.timer);
    if (answer.ok) waiter.resolve(answer.value);
    else waiter.reject(new Error(`${opts.name}: ${answer.error}`));
  });
  void exited.then(() => {
    for (const [id, waiter] of pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${opts.name} exited`));
      pending.delete(id);
    }
  });
  const alive = () => child.exitCode === null && child.signalCode === null && child.connected;
  return {
    info,
    pid: child.pid!,
    call<T>(type: string, payload: Record<string, unknown> = {}, timeoutMs = 15_000) {
      if (!alive()) return Promise.reject(new Error(`${opts.name} is not running`));
      const callId = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(callId);
          reject(new Error(`${opts.name} did not answer "${type}" within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(callId, { resolve: resolve as (v: unknown) => void, reject, timer });
        child.send({ ...payload, callId, type });
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ callId: 0, type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child's side: answers requests with `handlers`, runs `close` on 'close' or when the parent is gone, then exits. */
export function serveParent(info: Record<string, unknown>, handlers: Record<string, (payload: Record<string, unknown>) => unknown>, close: () => Promise<void>): void {
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    void close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('message', (raw: unknown) => {
    const { callId, type, ...payload } = raw as { callId: number; type: string } & Record<string, unknown>;
    if (type === 'close') return shutdown();
    const handler = handlers[type];
    if (!handler) return process.send?.({ callId, ok: false, error: `unknown request "${type}"` });
    Promise.resolve()
      .then(() => handler(payload))
      .then(
        (value) => process.send?.({ callId, ok: true, value }),
        (error: unknown) => process.send?.({ callId, ok: false, error: String(error) }),
      );
  });
  process.on('disconnect', shutdown);
  // Ctrl-C reaches the whole process group; the parent decides when we stop.
  process.on('SIGINT', () => undefined);
  process.send?.({ ...info, type: 'ready' });
}
