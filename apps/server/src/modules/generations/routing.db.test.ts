import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Generation, GenerationRouting } from '@atelier/contracts';
import { bflFaults, startFakeBfl, type FakeBfl } from '#test/fakes/fake-bfl.ts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';
import { signUpStaff } from '#test/support/staff.ts';

/**
 * Routing and fail-over through a CATALOGUE_FILE model served by three routes: two on the (fake) BFL
 * API, then the offline engine. Retryable failures fail over at once; moderation and validation never do.
 */
let bfl: FakeBfl;
let server: TestServer;
let user: { cookie: string; userId: string };
let staffCookie: string;
let catalogueDir: string;

beforeAll(async () => {
  bfl = await startFakeBfl({ processingMs: 100 });
  catalogueDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-catalogue-'));
  const file = path.join(catalogueDir, 'catalogue.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      models: [
        {
          id: 'routed',
          label: 'Routed model',
          routes: [
            { engine: 'bfl', engine_model: 'flux-2-pro', cost: { amount: 3, unit: 'bfl_credits' } },
            { engine: 'bfl', engine_model: 'flux-2-max' },
            { engine: 'offline', engine_model: 'offline' },
          ],
        },
      ],
    }),
  );
  server = await startTestServer({ env: { BFL_API_KEY: bfl.apiKey, BFL_BASE_URL: bfl.url, CATALOGUE_FILE: file, ENGINE_MAX_ATTEMPTS: '5' }, runner: { retryBaseMs: 20 } });
  user = await signUp(server.app);
  staffCookie = (await signUpStaff(server, 'owner', { email: 'staff@example.com' })).cookie;
});
afterAll(async () => {
  await server?.close();
  await bfl?.close();
  fs.rmSync(catalogueDir, { recursive: true, force: true });
});
beforeEach(() => bfl.reset());

const generate = async (prompt: string) => {
  const res = await server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: { model: 'routed', prompt, width: 512, height: 512 } });
  expect(res.statusCode).toBe(202);
  return res.json<Generation>();
};
const settled = (id: string) =>
  eventually(async () => {
    const g = (await server.app.inject({ method: 'GET', url: `/api/generations/${id}`, headers: studio(user.cookie) })).json<Generation>();
    return ['succeeded', 'failed', 'blocked', 'canceled'].includes(g.status) ? g : undefined;
  });
const routing = async (id: string) => (await server.app.inject({ method: 'GET', url: `/api/admin/generations/${id}/routing`, headers: studio(staffCookie) })).json<GenerationRouting>();

describe('fail-over across routes', () => {
  it('serves from the third route when the first two fail with 503 and 429', async () => {
    bfl.scriptNext('submit', bflFaults.serverError(503));
    bfl.scriptNext('submit', bflFaults.rateLimited(30));
    const g = await settled((await generate('three routes')).id);
    expect(g).toMatchObject({ status: 'succeeded', engine: 'offline' });
    expect(bfl.requestsTo('submit').map((r) => r.path)).toEqual(['/v1/flux-2-pro', '/v1/flux-2-max']);
    const r = await routing(g.id);
    expect(r).toMatchObject({ route_index: 2, engine: 'offline', attempt: 3 });
    expect(r.route_history.map((h) => [h.engine_model, h.outcome])).toEqual([
      ['flux-2-pro', 'failed_over'],
      ['flux-2-max', 'failed_over'],
    ]);
    expect(r.timings.engine_finished_at).not.toBeNull();
  });

  it('records the serving route, engine request id and cost when the first route works', async () => {
    const g = await settled((await generate('first route')).id);
    expect(g).toMatchObject({ status: 'succeeded', engine: 'bfl' });
    const r = await routing(g.id);
    expect(r).toMatchObject({ route_index: 0, engine_model: 'flux-2-pro', engine_request_id: [...bfl.tasks.keys()][0], route_history: [] });
    expect(r.engine_cost).toBeGreaterThan(0);
    expect(Date.parse(r.timings.submitted_at!)).toBeLessThanOrEqual(Date.parse(r.timings.engine_finished_at!));
  });

  it.each([
    ['request moderation', () => bfl.nextTaskOutcome({ kind: 'request_moderated' }), 'blocked'],
    ['a validation error', () => bfl.scriptNext('submit', bflFaults.validation([{ loc: ['body', 'prompt'], msg: 'bad', type: 'value_error' }])), 'failed'],
    ['insufficient credits', () => bfl.scriptNext('submit', bflFaults.insufficientCredits()), 'failed'],
  ] as const)('never fails over on %s', async (_name, arrange, status) => {
    arrange();
    const g = await settled((await generate('final answers')).id);
    expect(g.status).toBe(status);
    expect(bfl.requestsTo('submit')).toHaveLength(1);
    expect((await routing(g.id)).route_history).toEqual([]);
  });
});

describe('circuit breaker', () => {
  it('skips a route whose circuit opened after repeated failures', async () => {
    bfl.scriptNext('submit', bflFaults.serverError(500), 1000);
    for (let i = 0; i < 3; i++) expect((await settled((await generate(`failing ${i}`)).id)).engine).toBe('offline');
    // Both BFL routes have failed 3 times out of 3 (the breaker needs 5 calls in its window before opening).
    for (let i = 0; i < 2; i++) await settled((await generate(`failing more ${i}`)).id);
    const before = bfl.requestsTo('submit').length;
    expect(server.container.breakers.state({ engine: 'bfl', engine_model: 'flux-2-pro' })).toBe('open');
    const g = await settled((await generate('skips the open routes')).id);
    expect(g.engine).toBe('offline');
    expect(bfl.requestsTo('submit').length).toBe(before);
    const engines = (await server.app.inject({ method: 'GET', url: '/api/admin/engines', headers: studio(staffCookie) })).json<{ data: { id: string; routes: { engine_model: string; circuit: string }[] }[] }>();
    expect(engines.data.find((e) => e.id === 'bfl')!.routes.find((r) => r.engine_model === 'flux-2-pro')!.circuit).toBe('open');
  });
});

describe('staff endpoints', () => {
  it('are invisible (404) to users without the permission', async () => {
    for (const url of ['/api/admin/engines', '/api/admin/catalogue']) {
      expect((await server.app.inject({ method: 'GET', url, headers: studio(user.cookie) })).statusCode).toBe(404);
    }
  });

  it('shows configured engines with health and balance', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/admin/engines', headers: studio(staffCookie) });
    const data = res.json<{ data: { id: string; configured: boolean; reachable: boolean | null; balance: number | null }[] }>().data;
    expect(data.find((e) => e.id === 'bfl')).toMatchObject({ configured: true, reachable: true, balance: expect.any(Number) });
    expect(data.find((e) => e.id === 'fal')).toMatchObject({ configured: false, reachable: null });
  });

  it('adds and reverts a model through a catalogue override, without a restart', async () => {
    const definition = { id: 'staff-model', label: 'Staff model', routes: [{ engine: 'offline', engine_model: 'offline' }], default_output_format: 'png' };
    const put = await server.app.inject({ method: 'PUT', url: '/api/admin/catalogue/models/staff-model', headers: studio(staffCookie, { 'content-type': 'application/json' }), payload: definition });
    expect(put.statusCode).toBe(204);
    const models = async () => (await server.app.inject({ method: 'GET', url: '/api/models', headers: studio(user.cookie) })).json<{ data: { id: string }[] }>().data.map((m) => m.id);
    expect(await models()).toContain('staff-model');
    const bad = await server.app.inject({ method: 'PUT', url: '/api/admin/catalogue/models/staff-model', headers: studio(staffCookie, { 'content-type': 'application/json' }), payload: { ...definition, routes: [] } });
    expect(bad.statusCode).toBe(400);
    expect((await server.app.inject({ method: 'DELETE', url: '/api/admin/catalogue/models/staff-model', headers: studio(staffCookie) })).statusCode).toBe(204);
    expect(await models()).not.toContain('staff-model');
  });
});
