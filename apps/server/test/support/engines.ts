import { EngineError, type EngineHandle, type EngineRequest, type EngineStatus, type ImageEngine } from '#src/adapters/providers/engine.ts';

/** Shared by the engine adapters' tests. */

/** Polls like the generation job does (without its back-off) until the request leaves `pending`. */
export async function pollUntilSettled(engine: ImageEngine, handle: EngineHandle, request: EngineRequest, maxPolls = 200, intervalMs = 20): Promise<{ final: EngineStatus; seen: EngineStatus[] }> {
  const seen: EngineStatus[] = [];
  for (let i = 0; i < maxPolls; i++) {
    const status = await engine.poll(handle, request);
    seen.push(status);
    if (status.state !== 'pending') return { final: status, seen };
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`still pending after ${maxPolls} polls`);
}

/** The EngineError a promise rejects with; fails the test when it resolves or throws something else. */
export async function engineErrorOf(promise: Promise<unknown>): Promise<EngineError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof EngineError) return err;
    throw new Error(`expected an EngineError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected an EngineError, but the call succeeded');
}
