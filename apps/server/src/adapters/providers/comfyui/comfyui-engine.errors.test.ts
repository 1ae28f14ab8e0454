import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { comfyFaults, startFakeComfyUi } from '#test/fakes/fake-comfyui.ts';
import type { FakeComfyUi } from '#test/fakes/fake-comfyui.ts';
import { createComfyUiEngine } from './comfyui-engine.ts';
import type { ComfyUiEngine, ComfyUiEngineOptions } from './comfyui-engine.ts';
import { engineErrorOf, eventually, makeRequest, pollUntilSettled } from './comfyui-test-support.ts';

let fake: FakeComfyUi;
const engines: ComfyUiEngine[] = [];
beforeEach(async () => {
  fake = await startFakeComfyUi({ processingMs: 30 });
});
afterEach(async () => {
  for (const e of engines.splice(0)) e.close();
  await fake.close();
});
const engineFor = (opts: Partial<ComfyUiEngineOptions> = {}) => {
  const engine = createComfyUiEngine({ urls: [fake.url], ...opts });
  engines.push(engine);
  return engine;
};

describe('ComfyUI engine: rejected requests are final', () => {
  test('a graph ComfyUI refuses (model not installed) is engine_rejected_request with the node errors', async () => {
    fake.setScenario({ models: { ...fake.behaviour.models, diffusion_models: ['something-else.safetensors'] } });
    const err = await engineErrorOf(engineFor().submit(makeRequest()));
    expect(err).toMatchObject({ code: 'engine_rejected_request', retryable: false, httpStatus: 400 });
    expect(err.message).toContain("Prompt outputs failed validation; UNETLoader (node 1): Value not in list: unet_name: 'flux2_dev_fp8mixed.safetensors' not in ['something-else.safetensors']");
  });

  test('an unknown template or a bad parameter is rejected before any server is asked', async () => {
    const engine = engineFor();
    expect(await engineErrorOf(engine.submit(makeRequest({ engineModel: 'flux-2-pro' })))).toMatchObject({ code: 'engine_rejected_request', retryable: false });
    expect(await engineErrorOf(engine.submit(makeRequest({ parameters: { steps: 2.5 } })))).toMatchObject({ code: 'engine_rejected_request', message: expect.stringContaining('steps') });
    expect(await engineErrorOf(engine.submit(makeRequest({ parameters: { guidance: 'lots' } })))).toMatchObject({ code: 'engine_rejected_request' });
    expect(fake.requests).toHaveLength(0);
  });

  test('the other error envelopes: a bare string, {detail} and {error, message}', async () => {
    const engine = engineFor();
    fake.scriptNext('prompt', { status: 400, body: { error: 'no prompt', node_errors: [] } });
    expect((await engineErrorOf(engine.submit(makeRequest()))).message).toContain('no prompt');
    fake.scriptNext('prompt', { status: 422, body: { detail: [{ loc: ['body', 'prompt'], msg: 'Field required' }] } });
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_rejected_request', message: expect.stringContaining('Field required') });
    fake.scriptNext('prompt', { status: 413, body: { error: 'too_large', message: 'Body exceeds 1 MB' } });
    expect((await engineErrorOf(engine.submit(makeRequest()))).message).toContain('too_large: Body exceeds 1 MB');
  });
});

describe('ComfyUI engine: transient failures are retryable', () => {
  test('429 carries Retry-After in ms, as seconds or an HTTP date', async () => {
    const engine = engineFor();
    fake.scriptNext('prompt', comfyFaults.rateLimited(7));
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, retryAfterMs: 7000, httpStatus: 429 });
    fake.scriptNext('upload', comfyFaults.rateLimited(new Date(Date.now() + 20_000).toUTCString()));
    const { makeReference } = await import('./comfyui-test-support.ts');
    const err = await engineErrorOf(engine.submit(makeRequest({ references: [await makeReference({ r: 0, g: 0, b: 0 })] })));
    expect(err.retryAfterMs).toBeGreaterThan(15_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(20_000);
  });

  test('persistent 5xx on submit and on poll are retryable; the prompt itself is unharmed', async () => {
    const engine = engineFor();
    for (const status of [500, 502, 503, 504] as const) {
      fake.scriptNext('prompt', comfyFaults.serverError(status));
      expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true, httpStatus: status });
    }
    const request = makeRequest();
    const handle = await engine.submit(request);
    fake.scriptNext('history', comfyFaults.serverError(503), 3);
    for (let i = 0; i < 3; i++) expect(await engineErrorOf(engine.poll(handle, request))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    expect((await pollUntilSettled(engine, handle, request)).final.state).toBe('ready');
  });

  test('dropped connections, timeouts and closed ports are engine_unavailable; a caller abort stays an abort', async () => {
    const engine = engineFor({ requestTimeoutMs: 100 });
    fake.scriptNext('prompt', comfyFaults.connectionReset());
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', retryable: true });
    fake.scriptNext('prompt', comfyFaults.slow(1000));
    expect(await engineErrorOf(engine.submit(makeRequest()))).toMatchObject({ code: 'engine_unavailable', message: expect.stringContaining('timed out after 100 ms') });

    fake.scriptNext('prompt', comfyFaults.slow(1000));
    const controller = new AbortController();
    const pending = engineFor().submit(makeRequest(), controller.signal);
    setTimeout(() => controller.abort(new Error('user canceled')), 50);
    await expect(pending).rejects.toThrow('user canceled');
  });

  test('a server that forgot the prompt (restarted) fails the poll as retryable', async () => {
    fake.setScenario({ holdAtStep: 1 });
    const engine = engineFor();
    const request = makeRequest();
    const handle = await engine.submit(request);
    await fake.waitForEvent('progress', handle.requestId);
    await eventually(() => fake.connectedClients().length === 1);
    fake.restart();
    // Once the socket is back, what it said before the restart must not be trusted.
    await eventually(() => fake.connectedClients().length === 0);
    await eventually(() => fake.connectedClients().length === 1, 5000);
    expect((await pollUntilSettled(engine, handle, request)).final).toEqual({ state: 'failed', code: 'engine_error', retryable: true, detail: expect.stringContaining('no longer knows prompt') });
  });

  test('a handle for a server that is no longer configured fails without calling it', async () => {
    const request = makeRequest();
    const status = await engineFor().poll({ requestId: 'p', pollingUrl: null, extra: { server: 'http://127.0.0.1:1' } }, request);
    expect(status).toMatchObject({ state: 'failed', retryable: false, detail: expect.stringContaining('no longer configured') });
  });
});

describe('ComfyUI engine: execution failures', () => {
  test('an exception in a node is a final engine_error naming the node; out of memory is retryable', async () => {
    const engine = engineFor();
    const request = makeRequest();
    fake.nextPromptOutcome({ kind: 'execution_error', nodeType: 'VAEDecode', exceptionType: 'ValueError', message: 'bad latent' });
    expect((await pollUntilSettled(engine, await engine.submit(request), request)).final).toEqual({
      state: 'failed', code: 'engine_error', retryable: false, detail: 'ComfyUI failed in VAEDecode (node 12): ValueError: bad latent',
    });
    fake.nextPromptOutcome({ kind: 'execution_error', exceptionType: 'torch.OutOfMemoryError', message: 'CUDA out of memory. Tried to allocate 2.00 GiB' });
    expect((await pollUntilSettled(engine, await engine.submit(request), request)).final).toMatchObject({ state: 'failed', retryable: true, detail: expect.stringContaining('SamplerCustomAdvanced (node 11)') });
  });

  test('an interrupt by someone else on the server is retryable', async () => {
    fake.setScenario({ holdAtStep: 1 });
    const engine = engineFor();
    const request = makeRequest();
    const handle = await engine.submit(request);
    await fake.waitForEvent('progress', handle.requestId);
    await fetch(`${fake.url}/interrupt`, { method: 'POST' });
    expect((await pollUntilSettled(engine, handle, request)).final).toMatchObject({ state: 'failed', code: 'engine_error', retryable: true, detail: expect.stringContaining('interrupted') });
  });
});

describe('ComfyUI engine: downloading the result', () => {
  async function readyResult(engine: ComfyUiEngine) {
    const request = makeRequest();
    const { final } = await pollUntilSettled(engine, await engine.submit(request), request);
    if (final.state !== 'ready') throw new Error(`expected ready, got ${final.state}`);
    return final.result;
  }

  test('a result file that is already gone is result_expired', async () => {
    const engine = engineFor();
    fake.nextPromptOutcome({ kind: 'output_deleted' });
    expect(await engineErrorOf(engine.fetchResult(await readyResult(engine)))).toMatchObject({ code: 'result_expired', retryable: false, httpStatus: 404 });
  });

  test('a non-image, an empty body or one over the cap is invalid_output; a 503 is retryable', async () => {
    const engine = engineFor({ maxResultBytes: 100 });
    const result = await readyResult(engine);
    fake.scriptNext('view', { status: 200, body: '<html>login</html>', headers: { 'content-type': 'text/html' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: expect.stringContaining('text/html') });
    fake.scriptNext('view', { status: 200, body: '', headers: { 'content-type': 'image/png' } });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: 'ComfyUI result is empty' });
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'invalid_output', message: expect.stringContaining('larger than') });
    fake.scriptNext('view', comfyFaults.serverError(503));
    expect(await engineErrorOf(engine.fetchResult(result))).toMatchObject({ code: 'engine_unavailable', retryable: true });
  });
});

describe('ComfyUI engine: a proxy with credentials in front', () => {
  test('bearer and basic credentials reach every route and the socket; a wrong one is engine_auth_failed and never echoed', async () => {
    fake.setScenario({ requireAuthorization: 'Bearer s3cret-proxy-token' });
    const engine = engineFor({ auth: { type: 'bearer', token: 's3cret-proxy-token' } });
    const request = makeRequest();
    const handle = await engine.submit(request);
    const { final } = await pollUntilSettled(engine, handle, request);
    if (final.state !== 'ready') throw new Error('expected ready');
    expect((await engine.fetchResult(final.result)).length).toBeGreaterThan(0);
    expect(fake.requestsTo('ws').length).toBeGreaterThan(0);
    for (const r of fake.requests) expect(r.headers.authorization).toBe('Bearer s3cret-proxy-token');

    const basic = `Basic ${Buffer.from('atelier:pa55word-xyz').toString('base64')}`;
    fake.setScenario({ requireAuthorization: basic });
    await expect(engineFor({ auth: { type: 'basic', username: 'atelier', password: 'pa55word-xyz' } }).submit(request)).resolves.toMatchObject({ requestId: expect.any(String) });

    // A proxy that echoes the header it refused must not put the secret into our error.
    fake.scriptNext('prompt', { status: 401, body: { error: 'unauthorized', message: `bad credentials: Bearer s3cret-proxy-token` } });
    const err = await engineErrorOf(engine.submit(request));
    expect(err).toMatchObject({ code: 'engine_auth_failed', retryable: false, httpStatus: 401 });
    expect(err.message).not.toContain('s3cret-proxy-token');
    fake.scriptNext('prompt', comfyFaults.unauthorized());
    expect(await engineErrorOf(engineFor().submit(request))).toMatchObject({ code: 'engine_auth_failed' });
  });

  test('402 or "insufficient balance" from a rented host is engine_out_of_credits', async () => {
    fake.scriptNext('prompt', comfyFaults.insufficientBalance());
    expect(await engineErrorOf(engineFor().submit(makeRequest()))).toMatchObject({ code: 'engine_out_of_credits', retryable: false, message: expect.stringContaining('insufficient balance') });
  });

  test('server URLs with credentials in them are refused at start-up', () => {
    expect(() => createComfyUiEngine({ urls: ['http://user:pw@127.0.0.1:8188'] })).toThrow(/auth option/);
    expect(() => createComfyUiEngine({ urls: [] })).toThrow(/at least one/);
  });
});
