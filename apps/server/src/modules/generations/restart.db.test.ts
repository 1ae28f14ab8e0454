import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Account, CreditTransaction, Generation } from '@atelier/contracts';
import { startFakeBfl, type FakeBfl } from '#test/fakes/fake-bfl.ts';
import { createTestDatabase, eventually, testDbKind, type TestDatabase } from '#test/support/harness.ts';
import { freePort, startAtelierProcess, type AtelierProcess } from '#test/support/process.ts';

/**
 * A process killed (SIGKILL) while a generation waits on the engine: after a restart the generation
 * resumes polling the engine request it already made — it is not submitted (and paid for) twice —
 * and a generation that was still queued runs too. Nothing is left running forever.
 */
let bfl: FakeBfl;
let database: TestDatabase;
let dataDir: string;
let proc: AtelierProcess | undefined;

beforeAll(async () => {
  bfl = await startFakeBfl({ processingMs: 4000 });
  database = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-restart-'));
});
afterAll(async () => {
  await proc?.kill('SIGTERM');
  await bfl?.close();
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('resumes a generation interrupted by a crash without submitting it twice', async () => {
  const port = await freePort();
  const env = { DATA_DIR: dataDir, BFL_API_KEY: bfl.apiKey, BFL_BASE_URL: bfl.url, PUBLIC_URL: `http://127.0.0.1:${port}`, GENERATION_LEASE_SECONDS: '15', WORKER_CONCURRENCY: '1', ...database.env };
  proc = await startAtelierProcess(env, port);
  const origin = { origin: proc.url, 'content-type': 'application/json' };

  const signUp = await fetch(`${proc.url}/api/auth/sign-up/email`, { method: 'POST', headers: origin, body: JSON.stringify({ email: 'crash@example.com', password: 'correct horse battery', name: 'Crash', ageConfirmed: true }) });
  expect(signUp.status).toBe(200);
  const cookie = signUp.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const api = (p: string, init: RequestInit = {}) => fetch(`${proc!.url}${p}`, { ...init, headers: { ...origin, cookie, ...init.headers } });
  const create = async (prompt: string) => (await (await api('/api/generations', { method: 'POST', body: JSON.stringify({ model: 'flux-2-pro', prompt, width: 512, height: 512 }) })).json()) as Generation;

  const running = await create('interrupted while the engine works');
  const queued = await create('still queued behind it'); // one worker: this one waits
  // Polling starts only after the engine's request id is committed: kill the process while it polls.
  await eventually(async () => bfl.requestsTo('poll').length >= 1);
  expect(bfl.requestsTo('submit')).toHaveLength(1);
  expect(await proc.kill('SIGKILL')).toBeNull();

  if (testDbKind() === 'postgres') {
    // Another worker could still hold the lease on a shared server: wait until it has lapsed (15 s + half again).
    await new Promise((r) => setTimeout(r, 23_000));
  }
  proc = await startAtelierProcess(env, port);
  const settled = (id: string) =>
    eventually(
      async () => {
        const g = (await (await api(`/api/generations/${id}`)).json()) as Generation;
        return g.status === 'succeeded' || g.status === 'failed' ? g : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  expect((await settled(running.id)).status).toBe('succeeded');
  expect((await settled(queued.id)).status).toBe('succeeded');
  // The first generation resumed polling its existing BFL task; only the queued one was submitted after the restart.
  const prompts = bfl.requestsTo('submit').map((r) => (r.body as { prompt: string }).prompt);
  expect(prompts.sort()).toEqual(['interrupted while the engine works', 'still queued behind it']);
  // Each generation was charged exactly once (its hold captured, never also released) and nothing stays held.
  const account = (await (await api('/api/account')).json()) as Account;
  expect(account.credits.held).toBe(0);
  const moves = ((await (await api('/api/credits/transactions?limit=100')).json()) as { data: CreditTransaction[] }).data;
  for (const id of [running.id, queued.id]) expect(moves.filter((t) => t.generation_id === id).map((t) => t.kind).sort()).toEqual(['capture', 'hold']);
}, 150_000);
