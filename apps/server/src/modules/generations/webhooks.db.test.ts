import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Generation } from '@atelier/contracts';
import { startFakeBfl, type FakeBfl } from '#test/fakes/fake-bfl.ts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/**
 * Engine webhooks: the BFL submission carries a per-generation URL with a secret token; a call to it
 * wakes the waiting worker at once (here the backstop poll is 60 s away), and a wrong token, engine or
 * generation is refused with 401 and changes nothing. BFL's own webhook payload is undocumented, so
 * the body is ignored and the job re-reads get_result.
 */
let bfl: FakeBfl;
let server: TestServer;
let user: { cookie: string };

beforeAll(async () => {
  bfl = await startFakeBfl({ processingMs: 300 });
  server = await startTestServer({
    env: { BFL_API_KEY: bfl.apiKey, BFL_BASE_URL: bfl.url, ENGINE_WEBHOOKS: 'on', PUBLIC_URL: 'https://atelier.example.com' },
    runner: { pollStartMs: 60_000, pollMaxMs: 60_000 },
  });
  user = await signUp(server.app);
});
afterAll(async () => {
  await server?.close();
  await bfl?.close();
});

const get = async (id: string) => (await server.app.inject({ method: 'GET', url: `/api/generations/${id}`, headers: studio(user.cookie) })).json<Generation>();
const deliver = (url: string, body: unknown = { id: 'x', status: 'Ready' }) =>
  server.app.inject({ method: 'POST', url: new URL(url).pathname, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

it('hands BFL a webhook URL, and a delivery to it finishes the generation without waiting for the next poll', async () => {
  const created = (await server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: { model: 'flux-2-pro', prompt: 'webhook me', width: 512, height: 512 } })).json<Generation>();
  await eventually(async () => bfl.requestsTo('poll').length >= 1); // submitted, polled once (Pending), now sleeping 60 s
  const webhookUrl = (bfl.requestsTo('submit')[0]!.body as { webhook_url: string }).webhook_url;
  expect(webhookUrl).toMatch(new RegExp(`^https://atelier\\.example\\.com/api/webhooks/engines/bfl/${created.id}/[A-Za-z0-9_-]{43}$`));

  // Refused and harmless: wrong token, wrong engine, unknown generation.
  const token = webhookUrl.split('/').at(-1)!;
  const forged = webhookUrl.replace(token, token.slice(0, -4) + 'AAAA');
  expect((await deliver(forged)).statusCode).toBe(401);
  expect((await deliver(webhookUrl.replace('/engines/bfl/', '/engines/fal/'))).statusCode).toBe(401);
  expect((await deliver(webhookUrl.replace(created.id, '01a20127-2b33-755e-a36b-44e9ba860e1f'))).statusCode).toBe(401);
  expect((await get(created.id)).status).toBe('running');

  await new Promise((r) => setTimeout(r, 400)); // the task is Ready at BFL now
  expect((await deliver(webhookUrl)).statusCode).toBe(204);
  const done = await eventually(async () => ((await get(created.id)).status === 'succeeded' ? get(created.id) : undefined), { timeoutMs: 10_000 });
  expect(done.images).toHaveLength(1);

  // A duplicate or late delivery is acknowledged and changes nothing.
  expect((await deliver(webhookUrl)).statusCode).toBe(204);
  expect((await get(created.id)).images).toEqual(done.images);
});
