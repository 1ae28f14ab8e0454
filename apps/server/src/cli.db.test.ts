import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyShape, type Generation, type GenerationPage } from '@atelier/contracts';
import { createTestDatabase, eventually, startTestServer, type TestDatabase, type TestServer } from '#test/support/harness.ts';

/**
 * The operator CLI (`npm run atelier -- …`) and the public API v1 it hands keys out for, end to end:
 * create a user and a key from the shell, then drive /v1 with that key only.
 */
const run = promisify(execFile);
const MAIN = path.resolve(import.meta.dirname, 'main.ts');
let dataDir: string;
let database: TestDatabase;
let env: Record<string, string>;

const atelier = (...args: string[]) => run(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-cli-'));
  database = await createTestDatabase();
  env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...database.env };
});
afterAll(async () => {
  await database.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('atelier CLI and the v1 API', () => {
  let key: string;
  let readOnlyKey: string;
  let server: TestServer;

  it('migrates, creates a user, and prints an API key alone on the last line', async () => {
    expect((await atelier('migrate')).stdout).toContain('up to date');
    expect((await atelier('user', 'create', '--email', 'ops@example.com', '--password', 'correct horse battery')).stdout).toMatch(/Created user ops@example.com/);
    const { stdout } = await atelier('api-key', 'create', '--email', 'ops@example.com', '--name', 'ci', '--scopes', 'read,generate,manage');
    key = stdout.trim().split('\n').at(-1)!;
    expect(apiKeyShape(key)).toBe('checksummed'); // atl_ + 43 random + 6 checksum characters
    readOnlyKey = (await atelier('api-key', 'create', '--email', 'ops@example.com', '--scopes', 'read', '--expires-in-days', '30')).stdout.trim().split('\n').at(-1)!;
    await expect(atelier('api-key', 'create', '--email', 'ops@example.com', '--scopes', 'read,root')).rejects.toMatchObject({ stderr: expect.stringContaining('unknown: root') });
    await expect(atelier('api-key', 'create', '--email', 'nobody@example.com')).rejects.toMatchObject({ stderr: expect.stringContaining('No user with email nobody@example.com') });
    await expect(atelier('user', 'create', '--email', 'bad', '--password', 'correct horse battery')).rejects.toMatchObject({ code: 1 });
  }, 120_000);

  it('serves /v1 to that key: models, create, get, list, image bytes, delete', async () => {
    server = await startTestServer({ env: { DATA_DIR: dataDir, ...database.env }, database });
    const v1 = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
      server.app.inject({ method, url, headers: { authorization: `Bearer ${key}`, ...(payload ? { 'content-type': 'application/json' } : {}) }, ...(payload ? { payload: JSON.stringify(payload) } : {}) });

    expect((await v1('GET', '/v1/models')).json<{ data: { id: string }[] }>().data.map((m) => m.id)).toContain('offline');
    // The read-only key from the CLI reads but cannot generate.
    expect((await server.app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: `Bearer ${readOnlyKey}` } })).statusCode).toBe(200);
    const refused = await server.app.inject({ method: 'POST', url: '/v1/generations', headers: { authorization: `Bearer ${readOnlyKey}`, 'content-type': 'application/json' }, payload: { model: 'offline', prompt: 'nope' } });
    expect(refused.json()).toMatchObject({ error: { code: 'insufficient_scope', details: { required_scope: 'generate' } } });
    const created = await v1('POST', '/v1/generations', { model: 'offline', prompt: 'from the API "v1"', aspect_ratio: '4:3', output_format: 'webp' });
    expect(created.statusCode).toBe(202);
    const id = created.json<Generation>().id;
    const done = await eventually(async () => {
      const g = (await v1('GET', `/v1/generations/${id}`)).json<Generation>();
      return g.status === 'succeeded' ? g : undefined;
    });
    expect(done.images[0]!.url).toBe(`/v1/images/${done.images[0]!.id}`);
    const list = (await v1('GET', '/v1/generations?limit=10')).json<GenerationPage>();
    expect(list.data.map((g) => g.id)).toEqual([id]);
    const bytes = await v1('GET', `${done.images[0]!.url}?format=jpeg`);
    expect(bytes.headers['content-type']).toBe('image/jpeg');
    expect((await sharp(bytes.rawPayload).metadata()).width).toBe(done.width);
    expect((await v1('DELETE', `/v1/generations/${id}`)).statusCode).toBe(204);
    expect((await v1('GET', `/v1/generations/${id}`)).statusCode).toBe(404);
  }, 120_000);

  it('refuses to open the embedded database while a server holds it', async () => {
    if (database.env.DATABASE_URL) return await server.close(); // only the embedded database is single-process
    await expect(atelier('migrate')).rejects.toMatchObject({ stderr: expect.stringMatching(/already using the embedded database/) });
    await server.close();
  }, 60_000);

  it('grants and revokes staff roles from the shell: the first owner is bootstrapped this way', async () => {
    // Each command is a process opening the database: few of them, each checking several things.
    expect((await atelier('staff', 'grant', '--email', 'ops@example.com', '--role', 'owner')).stdout).toContain('Granted owner to ops@example.com');
    await atelier('user', 'create', '--email', 'helper@example.com', '--password', 'correct horse battery');
    const alias = await atelier('staff', 'grant', '--email', 'helper@example.com', '--permission', 'engines.read');
    expect(alias.stdout).toContain('Granted admin to helper@example.com');
    expect(alias.stderr).toContain('deprecated');
    await expect(atelier('staff', 'revoke', '--email', 'ops@example.com', '--role', 'owner')).rejects.toMatchObject({ stderr: expect.stringContaining('last owner') });
    expect((await atelier('staff', 'revoke', '--email', 'helper@example.com', '--role', 'admin')).stdout).toContain('Revoked admin');
    expect((await atelier('staff', 'list')).stdout).toBe('ops@example.com\towner\n');
  }, 300_000);

  it('grants and takes back credits from the shell, audited, and /v1 shows them to the key', async () => {
    const granted = await atelier('credits', 'grant', '--email', 'ops@example.com', '--amount', '500', '--reason', 'launch promotion', '--key', 'promo-1');
    expect(granted.stdout).toMatch(/^Granted 500 credits to ops@example.com; available \d+, held 0\n$/);
    const available = Number(/available (\d+)/.exec(granted.stdout)![1]);
    // The same key never grants twice.
    expect((await atelier('credits', 'grant', '--email', 'ops@example.com', '--amount', '500', '--reason', 'launch promotion', '--key', 'promo-1')).stdout).toContain(`available ${available},`);
    await expect(atelier('credits', 'grant', '--email', 'ops@example.com', '--amount', '-5', '--reason', 'negative')).rejects.toMatchObject({ stderr: expect.stringContaining('--amount must be a whole number') });
    await expect(atelier('credits', 'clawback', '--email', 'ops@example.com', '--amount', String(available + 1), '--reason', 'too much')).rejects.toMatchObject({ stderr: expect.stringContaining(`Only ${available} credits are available`) });
    expect((await atelier('credits', 'clawback', '--email', 'ops@example.com', '--amount', '100', '--reason', 'mistaken grant')).stdout).toContain(`available ${available - 100},`);

    server = await startTestServer({ env: { DATA_DIR: dataDir, ...database.env }, database });
    try {
      const v1 = (url: string) => server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
      expect((await v1('/v1/account')).json()).toMatchObject({ email: 'ops@example.com', credits: { available: available - 100, held: 0 }, plan: { id: 'free' }, payments_enabled: false });
      const moves = (await v1('/v1/credits/transactions?limit=3')).json<{ data: { kind: string; available_change: number; description: string }[] }>().data;
      expect(moves.slice(0, 2)).toEqual([
        expect.objectContaining({ kind: 'clawback', available_change: -100, description: 'Removed by Atelier: mistaken grant' }),
        expect.objectContaining({ kind: 'grant', available_change: 500, description: 'Added by Atelier: launch promotion' }),
      ]);
      const audit = await server.container.database.db.selectFrom('audit_events').select(['action', 'actor_id', 'reason', 'details']).where('action', 'in', ['credits.granted', 'credits.clawed_back']).orderBy('id').execute();
      expect(audit).toEqual([
        expect.objectContaining({ action: 'credits.granted', actor_id: null, reason: 'launch promotion', details: expect.objectContaining({ amount: 500, via: 'cli' }) }),
        expect.objectContaining({ action: 'credits.clawed_back', actor_id: null, reason: 'mistaken grant', details: expect.objectContaining({ amount: 100, via: 'cli' }) }),
      ]);
    } finally {
      await server.close();
    }
  }, 300_000);
});
