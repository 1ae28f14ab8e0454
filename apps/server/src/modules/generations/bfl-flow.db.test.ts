import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Generation } from '@atelier/contracts';
import { bflFaults, startFakeBfl, type FakeBfl } from '#test/fakes/fake-bfl.ts';
import { eventually, signUp, startTestServer, studio, type TestServer } from '#test/support/harness.ts';

/** The generation flow against a contract-faithful fake BFL API on loopback. */
let bfl: FakeBfl;
let server: TestServer;
let user: { cookie: string; userId: string; email: string };

beforeAll(async () => {
  bfl = await startFakeBfl({ processingMs: 150 });
  server = await startTestServer({ env: { BFL_API_KEY: bfl.apiKey, BFL_BASE_URL: bfl.url, ENGINE_MAX_ATTEMPTS: '3' }, runner: { retryBaseMs: 50 } });
  user = await signUp(server.app);
});
afterAll(async () => {
  await server?.close();
  await bfl?.close();
});
beforeEach(() => bfl.reset());

const generate = async (body: Record<string, unknown>) => {
  const res = await server.app.inject({ method: 'POST', url: '/api/generations', headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: { model: 'flux-2-pro', width: 1024, height: 768, ...body } });
  expect(res.statusCode).toBe(202);
  return res.json<Generation>();
};
const settled = (id: string) =>
  eventually(async () => {
    const g = (await server.app.inject({ method: 'GET', url: `/api/generations/${id}`, headers: studio(user.cookie) })).json<Generation>();
    return ['succeeded', 'failed', 'blocked', 'canceled'].includes(g.status) ? g : undefined;
  });
const row = (id: string) => server.container.database.db.selectFrom('generations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const submits = () => bfl.requestsTo('submit');

describe('BFL engine', () => {
  it('lists the FLUX.2 models when a key is configured', async () => {
    const models = (await server.app.inject({ method: 'GET', url: '/api/models', headers: studio(user.cookie) })).json<{ data: { id: string }[] }>();
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining(['offline', 'flux-2-pro', 'flux-2-max', 'flux-2-flex', 'flux-2-klein-4b', 'flux-2-klein-9b']));
  });

  it('submits, polls the regional polling_url, downloads at once and stores the image', async () => {
    const g = await settled((await generate({ prompt: 'a lighthouse at dusk', seed: 1234, output_format: 'webp' })).id);
    expect(g.status).toBe('succeeded');
    expect(g.images[0]).toMatchObject({ width: 1024, height: 768, format: 'webp' });

    const [submit] = submits();
    expect(submit!.path).toBe('/v1/flux-2-pro');
    expect(submit!.headers['x-key']).toBe(bfl.apiKey);
    expect(submit!.body).toMatchObject({ prompt: 'a lighthouse at dusk', width: 1024, height: 768, seed: 1234, output_format: 'webp' });
    // Privacy: the engine receives the prompt and parameters, nothing that identifies the user.
    const sent = JSON.stringify(bfl.requests.map((r) => [r.headers, r.body]));
    expect(sent).not.toContain(user.userId);
    expect(sent).not.toContain(user.email);
    expect(sent).not.toContain(g.id);
    expect(bfl.requestsTo('poll').every((r) => r.listener === 'cluster')).toBe(true);

    const stored = await row(g.id);
    expect(stored.engine_request_id).toBe([...bfl.tasks.keys()][0]);
    expect(stored.engine_cost).toBeGreaterThan(0);
    const image = await server.app.inject({ method: 'GET', url: g.images[0]!.url, headers: studio(user.cookie) });
    expect((await sharp(image.rawPayload).metadata()).xmp?.toString()).toContain('trainedAlgorithmicMedia');
  });

  it.each([
    ['request_moderated', 'request_moderated'],
    ['content_moderated', 'content_moderated'],
  ] as const)('%s becomes blocked with a reason and no image', async (kind, code) => {
    bfl.nextTaskOutcome({ kind });
    const g = await settled((await generate({ prompt: 'something the engine refuses' })).id);
    expect(g).toMatchObject({ status: 'blocked', error: { code }, images: [] });
    expect(submits()).toHaveLength(1); // moderation is final: no retry
  });

  it('retries after a 429, honouring Retry-After, then succeeds', async () => {
    bfl.scriptNext('submit', bflFaults.rateLimited(1));
    const g = await settled((await generate({ prompt: 'busy engine' })).id);
    expect(g.status).toBe('succeeded');
    const [first, second] = submits();
    expect(submits()).toHaveLength(2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('fails with an operator-facing reason on 402, without retrying', async () => {
    bfl.scriptNext('submit', bflFaults.insufficientCredits());
    const g = await settled((await generate({ prompt: 'no credits' })).id);
    expect(g).toMatchObject({ status: 'failed', error: { code: 'engine_out_of_credits' } });
    expect(g.error!.message).toMatch(/operator/i);
    expect(submits()).toHaveLength(1);
    expect((await row(g.id)).error_detail).toMatch(/credits/i);
  });

  it('gives up after the configured attempts when the engine keeps failing with 5xx', async () => {
    bfl.scriptNext('submit', bflFaults.serverError(503), 10);
    const g = await settled((await generate({ prompt: 'down for maintenance' })).id);
    expect(g).toMatchObject({ status: 'failed', error: { code: 'engine_unavailable' } });
    expect(submits()).toHaveLength(3);
  });

  it('fails with result_expired when the delivery URL has expired', async () => {
    bfl.nextTaskOutcome({ kind: 'sample_expired' });
    const g = await settled((await generate({ prompt: 'too late' })).id);
    expect(g).toMatchObject({ status: 'failed', error: { code: 'result_expired' } });
  });

  it('surfaces engine validation errors as final failures', async () => {
    bfl.scriptNext('submit', bflFaults.validation([{ loc: ['body', 'width'], msg: 'Input should be a multiple of 16', type: 'value_error' }]));
    const g = await settled((await generate({ prompt: 'bad size' })).id);
    expect(g).toMatchObject({ status: 'failed', error: { code: 'engine_rejected_request' } });
    expect((await row(g.id)).error_detail).toContain('multiple of 16');
  });

  it('cancels a running generation: it stops polling and keeps no image', async () => {
    bfl.nextTaskOutcome({ kind: 'pending_forever' });
    const created = await generate({ prompt: 'never finishes' });
    await eventually(async () => (await row(created.id)).engine_request_id !== null);
    const res = await server.app.inject({ method: 'POST', url: `/api/generations/${created.id}/cancel`, headers: studio(user.cookie, { 'content-type': 'application/json' }), payload: '{}' });
    expect(res.json()).toMatchObject({ status: 'canceled' });
    await new Promise((r) => setTimeout(r, 300));
    const polls = bfl.requestsTo('poll').length;
    await new Promise((r) => setTimeout(r, 500));
    expect(bfl.requestsTo('poll').length).toBe(polls);
    expect((await settled(created.id)).status).toBe('canceled');
  });
});
