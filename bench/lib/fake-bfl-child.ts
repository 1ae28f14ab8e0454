/**
 * The fake BFL API in its own process, so that its work (rendering a real image per task with sharp)
 * is not counted as Atelier's CPU time or memory, and does not run on Atelier's event loop.
 *
 * Protocol (IPC, child_process.fork):
 *   child → parent  { type: 'ready', url, apiKey }
 *   parent → child  { type: 'snapshot' }  → child answers { type: 'snapshot', tasks, requests, cpu, rss }
 *   parent → child  { type: 'close' }     → child closes its listeners and exits
 * Options come as JSON in argv[2] (FakeBflOptions, e.g. { processingMs, maxActiveTasks }).
 */
import { startFakeBfl, type FakeBflOptions } from '../../apps/server/test/fakes/fake-bfl.ts';

export interface TaskTiming {
  id: string;
  /** When the fake accepted the submit (ms since epoch, this machine's clock). */
  createdAt: number;
  processingMs: number;
  outcome: string;
  downloads: number;
}

export interface RequestTiming {
  listener: string;
  route: 'submit' | 'poll' | 'delivery' | 'other';
  /** Task id for polls (query ?id=) and deliveries (path); null for submits. */
  taskId: string | null;
  /** When the fake had read the whole request. */
  at: number;
}

export interface Snapshot {
  type: 'snapshot';
  tasks: TaskTiming[];
  requests: RequestTiming[];
  cpu: NodeJS.CpuUsage;
  rss: number;
}

const send = (message: unknown) => process.send?.(message);

const options = JSON.parse(process.argv[2] ?? '{}') as FakeBflOptions;
const fake = await startFakeBfl(options);
let closing = false;

process.on('message', (raw: unknown) => {
  const message = raw as { type?: string };
  if (message.type === 'snapshot') {
    const tasks: TaskTiming[] = [...fake.tasks.values()].map((t) => ({ id: t.id, createdAt: t.createdAt, processingMs: t.processingMs, outcome: t.outcome.kind, downloads: t.downloads }));
    const requests: RequestTiming[] = fake.requests.map((r) => {
      if (r.listener === 'delivery') {
        const id = /^\/results\/([0-9a-f-]+)\//.exec(r.path)?.[1] ?? null;
        return { listener: r.listener, route: 'delivery', taskId: id, at: r.at };
      }
      if (r.path === '/v1/get_result') return { listener: r.listener, route: 'poll', taskId: r.query.id ?? null, at: r.at };
      if (r.method === 'POST') return { listener: r.listener, route: 'submit', taskId: null, at: r.at };
      return { listener: r.listener, route: 'other', taskId: null, at: r.at };
    });
    const snapshot: Snapshot = { type: 'snapshot', tasks, requests, cpu: process.cpuUsage(), rss: process.memoryUsage().rss };
    send(snapshot);
  } else if (message.type === 'close' && !closing) {
    closing = true;
    void fake.close().finally(() => process.exit(0));
  }
});
// The parent went away without saying goodbye: do not linger.
process.on('disconnect', () => {
  if (!closing) void fake.close().finally(() => process.exit(0));
});

send({ type: 'ready', url: fake.url, apiKey: fake.apiKey });
