import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GenerationEvent } from '@atelier/contracts';
import { signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/** Live updates are pushed over SSE from the database's NOTIFY, only to the generation's owner. */
let server: TestServer;
let base: string;
beforeAll(async () => {
  server = await startTestServer();
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const address = server.app.server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(() => server?.close());

async function collectEvents(cookie: string, until: (events: GenerationEvent[]) => boolean, timeoutMs = 15_000): Promise<GenerationEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const res = await fetch(`${base}/api/events`, { headers: { cookie }, signal: controller.signal });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: GenerationEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (frame.includes('event: generation.updated') && data) events.push(JSON.parse(data.slice(6)) as GenerationEvent);
      }
      if (until(events)) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

it('pushes queued → running → succeeded to the owner, and nothing to anyone else', async () => {
  const owner = await signUp(server.app);
  const stranger = await signUp(server.app);
  const ownerStream = collectEvents(owner.cookie, (evs) => evs.some((e) => e.generation.status === 'succeeded'));
  const strangerStream = collectEvents(stranger.cookie, () => false, 4000);
  await new Promise((r) => setTimeout(r, 300)); // let both streams subscribe

  const created = await server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(owner.cookie, { 'content-type': 'application/json' }), payload: { model: 'offline', prompt: 'live "update"', width: 512, height: 512 } });
  const id = created.json<{ id: string }>().id;

  const statuses = (await ownerStream).filter((e) => e.generation.id === id).map((e) => e.generation.status);
  expect(statuses[0]).toBe('queued');
  expect(statuses).toContain('running');
  expect(statuses.at(-1)).toBe('succeeded');
  const last = (await ownerStream).at(-1)!;
  expect(last.generation.images[0]?.thumbnail_url).toMatch(/^\/api\/images\/.+\/thumbnail$/);
  expect(await strangerStream).toEqual([]);
});

it('refuses the event stream without a session', async () => {
  const res = await fetch(`${base}/api/events`);
  expect(res.status).toBe(401);
});

it('keeps an engine wake that arrives while the worker is not sleeping, so its next sleep ends at once', async () => {
  const { events } = server.container;
  events.wakeLocal('generation-a');
  expect(await events.sleepUnlessWoken('generation-a', 10_000)).toBe(true);
  expect(await events.sleepUnlessWoken('generation-a', 50)).toBe(false); // consumed
  const sleeping = events.sleepUnlessWoken('generation-b', 10_000);
  events.wakeLocal('generation-b');
  expect(await sleeping).toBe(true);
});
