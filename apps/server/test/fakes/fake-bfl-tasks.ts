import type { Flux2Submission } from './fake-bfl-spec.ts';

/** How a submitted task ends. Scripted per test with `fake.nextTaskOutcome(...)`, otherwise `ready`. */
export type TaskOutcome =
  | { kind: 'ready' }
  /** Input flagged before processing: reported at once, never Pending. Not charged. */
  | { kind: 'request_moderated'; details?: Record<string, unknown> }
  /** Output flagged after generation: Pending for the processing time, then no result. Not charged. */
  | { kind: 'content_moderated'; details?: Record<string, unknown> }
  | { kind: 'error'; details?: Record<string, unknown> }
  /** Ready, but the sample URL has already expired by the time anyone fetches it. */
  | { kind: 'sample_expired' }
  /** Stays Pending; for deadline and cancellation tests. */
  | { kind: 'pending_forever' }
  /** get_result answers "Task not found", as for an id BFL has already forgotten. */
  | { kind: 'not_found' };

export interface FakeBflTask {
  id: string;
  model: string;
  /** The JSON body exactly as received. */
  body: unknown;
  input: Flux2Submission;
  /** The request's seed, or the one the fake picked. */
  seed: number;
  cost: number;
  inputMp: number;
  outputMp: number;
  createdAt: number;
  processingMs: number;
  sampleTtlMs: number;
  outcome: TaskOutcome;
  /** Part of the sample URL, like the signature of a signed blob URL. */
  sampleSig: string;
  /** Rendered on first download and reused. */
  image: Promise<Buffer> | null;
  downloads: number;
}

export const DEFAULT_DETAILS: Readonly<Record<'request_moderated' | 'content_moderated' | 'error', Record<string, unknown>>> = {
  // The exact wording BFL uses in `details` is not documented [U]; the shape (an object) is [V].
  request_moderated: { 'Moderation Reasons': ['Fake BFL trigger word in prompt'] },
  content_moderated: { 'Moderation Reasons': ['Fake BFL output moderation'] },
  error: { message: 'Fake BFL generation error' },
};

/** The task's ResultResponse at `now`. FastAPI serialises every field of the model, so unset ones are null. */
export function viewTask(task: FakeBflTask, now: number, deliveryUrl: string): Record<string, unknown> {
  const base = { id: task.id, result: null, progress: null, details: null, preview: null };
  const readyAt = task.createdAt + task.processingMs;
  const pending = { ...base, status: 'Pending', progress: Math.min(0.99, Math.round(((now - task.createdAt) / Math.max(1, task.processingMs)) * 100) / 100) };
  const o = task.outcome;
  switch (o.kind) {
    case 'not_found':
      return { ...base, status: 'Task not found' };
    case 'request_moderated':
      return { ...base, status: 'Request Moderated', details: o.details ?? DEFAULT_DETAILS.request_moderated };
    case 'pending_forever':
      return pending;
    default:
      break;
  }
  if (now < readyAt) return pending;
  if (o.kind === 'content_moderated') return { ...base, status: 'Content Moderated', details: o.details ?? DEFAULT_DETAILS.content_moderated };
  if (o.kind === 'error') return { ...base, status: 'Error', details: o.details ?? DEFAULT_DETAILS.error };
  return {
    ...base,
    status: 'Ready',
    progress: 1,
    result: {
      sample: sampleUrl(task, deliveryUrl),
      prompt: task.input.prompt,
      seed: task.seed,
      start_time: task.createdAt / 1000,
      end_time: readyAt / 1000,
      duration: task.processingMs / 1000,
    },
  };
}

export function sampleExpiresAt(task: FakeBflTask): number {
  const readyAt = task.createdAt + task.processingMs;
  return task.outcome.kind === 'sample_expired' ? readyAt : readyAt + task.sampleTtlMs;
}

function sampleUrl(task: FakeBflTask, deliveryUrl: string): string {
  const se = new Date(sampleExpiresAt(task)).toISOString();
  return `${deliveryUrl}/results/${task.id}/sample.${task.input.outputFormat}?se=${encodeURIComponent(se)}&sig=${task.sampleSig}`;
}

/** Counts toward BFL's concurrency limit: submitted and not yet finished. Polling does not count. */
export function isActive(task: FakeBflTask, now: number): boolean {
  switch (task.outcome.kind) {
    case 'not_found':
    case 'request_moderated':
      return false;
    case 'pending_forever':
      return true;
    default:
      return now < task.createdAt + task.processingMs;
  }
}

export function isCharged(outcome: TaskOutcome): boolean {
  return outcome.kind !== 'request_moderated' && outcome.kind !== 'content_moderated';
}
