import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Generation } from '@atelier/contracts';
import { createTestDatabase, eventually, testDbKind, type TestDatabase } from '#test/support/harness.ts';
import { freePort, startAtelierProcess, type AtelierProcess } from '#test/support/process.ts';

/**
 * Scaling out: `atelier api` and `atelier worker` as separate processes on one PostgreSQL server. The
 * embedded database belongs to one process, so there the split roles refuse to start with a reason.
 */
let database: TestDatabase;
let dataDir: string;
const procs: AtelierProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-roles-'));
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGTERM');
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('runs generations created on an API process in a separate worker process', async () => {
  const env = { DATA_DIR: dataDir, ...database.env };
  if (testDbKind() === 'pglite') {
    const run = promisify(execFile);
    const main = path.resolve(import.meta.dirname, 'main.ts');
    for (const role of ['api', 'worker']) {
      await expect(run(process.execPath, [main, role], { env: { PATH: process.env.PATH ?? '', ...env } })).rejects.toMatchObject({ stderr: expect.stringContaining('set DATABASE_URL') });
    }
    return;
  }
  const port = await freePort();
  const api = await startAtelierProcess({ ...env, PUBLIC_URL: `http://127.0.0.1:${port}` }, port, 'api');
  procs.push(api);
  const headers = { origin: api.url, 'content-type': 'application/json' };
  const signUp = await fetch(`${api.url}/api/auth/sign-up/email`, { method: 'POST', headers, body: JSON.stringify({ email: 'scale@example.com', password: 'correct horse battery', name: 'S', ageConfirmed: true }) });
  const cookie = signUp.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const created = (await (await fetch(`${api.url}/api/generations`, { method: 'POST', headers: { ...headers, cookie }, body: JSON.stringify({ model: 'offline', prompt: 'split roles', width: 256, height: 256 }) })).json()) as Generation;

  // The API process has no workers: nothing happens until one starts.
  await new Promise((r) => setTimeout(r, 1500));
  const get = async () => (await (await fetch(`${api.url}/api/generations/${created.id}`, { headers: { cookie } })).json()) as Generation;
  expect((await get()).status).toBe('queued');

  procs.push(await startAtelierProcess({ ...env, PUBLIC_URL: `http://127.0.0.1:${port}` }, port, 'worker'));
  const done = await eventually(async () => ((await get()).status === 'succeeded' ? get() : undefined), { timeoutMs: 30_000 });
  const image = await fetch(`${api.url}${done.images[0]!.url}`, { headers: { cookie } });
  expect(image.headers.get('content-type')).toBe('image/png');
}, 90_000);
