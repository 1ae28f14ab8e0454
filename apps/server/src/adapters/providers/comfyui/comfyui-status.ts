import { z } from 'zod';
import type { EngineStatus } from '#src/adapters/providers/engine.ts';
import { NOISE_NODE_ID, SAVE_NODE_ID } from './comfyui-graphs.ts';

/**
 * Reading ComfyUI's answers: a `/history/{id}` entry into an EngineStatus, and `/queue` into where a
 * prompt is. Everything is parsed leniently (unknown fields and older shapes tolerated).
 */

const imageRefSchema = z.object({ filename: z.string().min(1), subfolder: z.string().catch(''), type: z.string().catch('output') });
const historyEntrySchema = z.object({
  // [number, prompt_id, graph, extra_data, outputs_to_execute]
  prompt: z.array(z.unknown()).catch([]),
  outputs: z.record(z.string(), z.object({ images: z.array(imageRefSchema).catch([]) }).catch({ images: [] })).catch({}),
  // Servers from before 2024 have no `status`; an entry then means the prompt ran to completion.
  status: z.object({ status_str: z.string().optional(), completed: z.boolean().optional(), messages: z.array(z.unknown()).catch([]) }).optional().catch(undefined),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export type ImageRef = z.infer<typeof imageRefSchema>;

/** `/history/{id}` is `{}` until the prompt has finished, then `{<id>: entry}`. */
export function historyEntryOf(body: unknown, promptId: string): HistoryEntry | null {
  if (typeof body !== 'object' || body === null || !(promptId in body)) return null;
  const entry = historyEntrySchema.safeParse((body as Record<string, unknown>)[promptId]);
  return entry.success ? entry.data : null;
}

const messageSchema = z.tuple([z.string(), z.record(z.string(), z.unknown()).catch({})]);
const executionErrorSchema = z.object({
  node_id: z.unknown().optional(),
  node_type: z.string().optional(),
  exception_type: z.string().optional(),
  exception_message: z.string().optional(),
});

/**
 * An out-of-memory error is worth retrying (later, or on another server); any other node exception
 * (a missing model file, a bad input image) would only fail again.
 */
const TRANSIENT_ERROR = /out ?of ?memory|OutOfMemory|CUDA error|device-side assert/i;

function failureFrom(entry: HistoryEntry): EngineStatus {
  const messages = (entry.status?.messages ?? []).flatMap((m) => {
    const parsed = messageSchema.safeParse(m);
    return parsed.success ? [parsed.data] : [];
  });
  const interrupted = messages.find(([event]) => event === 'execution_interrupted');
  if (interrupted) {
    // Someone else's global interrupt (the ComfyUI UI's cancel button, another client) also lands
    // here; our own cancel never polls again. Another attempt may well succeed.
    return { state: 'failed', code: 'engine_error', retryable: true, detail: 'The prompt was interrupted on the ComfyUI server' };
  }
  const error = messages.find(([event]) => event === 'execution_error');
  const e = executionErrorSchema.safeParse(error?.[1] ?? {});
  if (!error || !e.success) return { state: 'failed', code: 'engine_error', retryable: false, detail: 'ComfyUI reported an error without details' };
  const where = e.data.node_type ? `${e.data.node_type} (node ${String(e.data.node_id ?? '?')})` : 'a node';
  const what = [e.data.exception_type, e.data.exception_message?.trim()].filter(Boolean).join(': ') || 'unknown error';
  const text = `${e.data.exception_type ?? ''} ${e.data.exception_message ?? ''}`;
  return { state: 'failed', code: 'engine_error', retryable: TRANSIENT_ERROR.test(text), detail: `ComfyUI failed in ${where}: ${what}` };
}

/** The seed the graph ran with, read back from the prompt stored in the history entry. */
function seedFrom(entry: HistoryEntry): number | null {
  const graph = z.record(z.string(), z.object({ inputs: z.record(z.string(), z.unknown()).catch({}) })).safeParse(entry.prompt[2]);
  const seed = graph.success ? graph.data[NOISE_NODE_ID]?.inputs.noise_seed : undefined;
  return typeof seed === 'number' && Number.isSafeInteger(seed) ? seed : null;
}

/** Our SaveImage node's first output image; else any output image (a server with renumbering extensions). */
function outputImage(entry: HistoryEntry): ImageRef | null {
  const ours = entry.outputs[SAVE_NODE_ID]?.images.find((i) => i.type === 'output');
  if (ours) return ours;
  for (const output of Object.values(entry.outputs)) {
    const image = output.images.find((i) => i.type === 'output');
    if (image) return image;
  }
  return null;
}

export function viewUrl(server: string, image: ImageRef): string {
  const url = new URL(`${server}/view`);
  url.searchParams.set('filename', image.filename);
  url.searchParams.set('subfolder', image.subfolder);
  url.searchParams.set('type', image.type);
  return url.href;
}

/**
 * A finished prompt as an EngineStatus. The result is a `url` on the server's `/view`: poll stays
 * small, and `fetchResult` downloads it at once with the size cap and content-type check. It is always
 * the lossless PNG SaveImage wrote; the media pipeline encodes the requested output format.
 */
export function statusFromHistory(entry: HistoryEntry, server: string, fallbackSeed: number | null): EngineStatus {
  if (entry.status?.status_str === 'error') return failureFrom(entry);
  const image = outputImage(entry);
  if (!image) return { state: 'failed', code: 'invalid_output', retryable: false, detail: 'ComfyUI finished the prompt without saving an image' };
  return { state: 'ready', result: { kind: 'url', url: viewUrl(server, image), seed: seedFrom(entry) ?? fallbackSeed } };
}

const queueSchema = z.object({
  queue_running: z.array(z.array(z.unknown())).catch([]),
  queue_pending: z.array(z.array(z.unknown())).catch([]),
});

/** Where `/queue` has the prompt: items are `[number, prompt_id, graph, extra_data, outputs]`. */
export function queuePlace(body: unknown, promptId: string): 'running' | 'pending' | 'absent' {
  const parsed = queueSchema.safeParse(body);
  if (!parsed.success) return 'absent';
  if (parsed.data.queue_running.some((item) => item[1] === promptId)) return 'running';
  if (parsed.data.queue_pending.some((item) => item[1] === promptId)) return 'pending';
  return 'absent';
}

const queueInfoSchema = z.object({ exec_info: z.object({ queue_remaining: z.number().int().nonnegative() }) });
/** `GET /prompt` → `{exec_info: {queue_remaining}}` (running + pending), or null when unreadable. */
export function queueRemaining(body: unknown): number | null {
  const parsed = queueInfoSchema.safeParse(body);
  return parsed.success ? parsed.data.exec_info.queue_remaining : null;
}
