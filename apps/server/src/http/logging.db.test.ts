import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Generation } from '@atelier/contracts';
import { eventually, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/** Logs carry request ids and outcomes, never passwords, session tokens, API keys or prompts. */
const lines: string[] = [];
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ logs: { write: (line) => void lines.push(line) } });
});
afterAll(() => server?.close());

it('keeps secrets and prompts out of the logs', async () => {
  const password = 'Pa55word-that-must-not-leak';
  const prompt = 'PROMPT-THAT-MUST-NOT-LEAK "hello"';
  const signUp = await server.app.inject({ method: 'POST', url: '/api/auth/sign-up/email', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, payload: { email: 'logs@example.com', password, name: 'L', ageConfirmed: true } });
  const cookie = [signUp.headers['set-cookie']].flat().map((c) => String(c).split(';')[0]).join('; ');
  const token = cookie.split('=')[1]!.split('.')[0]!;
  const key = (await server.app.inject({ method: 'POST', url: '/api/api-keys', headers: studio(cookie, { 'content-type': 'application/json' }), payload: { name: 'k', scopes: ['read', 'generate'] } })).json<{ key: string }>().key;
  const created = await server.app.inject({ method: 'POST', url: '/v1/generations', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: { model: 'offline', prompt, width: 256, height: 256 } });
  const id = created.json<Generation>().id;
  await eventually(async () => (await server.app.inject({ method: 'GET', url: `/v1/generations/${id}`, headers: { authorization: `Bearer ${key}` } })).json<Generation>().status === 'succeeded');

  const all = lines.join('');
  expect(all).toContain(id); // the job's log lines name the generation
  expect(all).toMatch(/"reqId":"[0-9a-f-]{36}"/);
  for (const secret of [password, 'PROMPT-THAT-MUST-NOT-LEAK', token, key]) expect(all).not.toContain(secret);
});
