import { renderSample } from './fake-bfl-image.ts';
import type { PromptGraph } from './fake-comfyui-nodes.ts';

/**
 * The fake ComfyUI's prompt queue and executor: one prompt at a time, lowest `number` first, sending
 * the WebSocket events of providers.md §4.2 to the prompt's client and writing the `/history` entry
 * (then `executing {node: null}`, the order main.py uses) when it ends.
 */

/** How the next accepted prompt ends (scripted per test), otherwise `success`. */
export type PromptOutcome =
  | { kind: 'success' }
  /** An exception in a node (default SamplerCustomAdvanced), reported as `execution_error`. */
  | { kind: 'execution_error'; nodeType?: string; exceptionType?: string; message?: string }
  /** Succeeds, but the output file is gone by the time anyone asks /view (cleaned up). */
  | { kind: 'output_deleted' };

export interface QueueItem {
  number: number;
  promptId: string;
  graph: PromptGraph;
  extraData: Record<string, unknown>;
  outputs: string[];
  outcome: PromptOutcome;
}

export interface ImageRef { filename: string; subfolder: string; type: 'output' }
export interface HistoryEntry {
  prompt: [number, string, PromptGraph, Record<string, unknown>, string[]];
  outputs: Record<string, { images: ImageRef[] }>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, Record<string, unknown>][] };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

export interface ExecutorBehaviour {
  /** Sampling time of one prompt, spread over its steps (one progress event per step). */
  processingMs: number;
  /** Hold every prompt after this many sampler steps until `release()` (for deterministic tests). */
  holdAtStep: number | null;
  /** Do not start queued prompts (a busy or stuck server). */
  paused: boolean;
}

export interface Executor {
  readonly pending: QueueItem[];
  readonly running: QueueItem | null;
  readonly history: Map<string, HistoryEntry>;
  /** Output files by `subfolder/filename`. */
  readonly files: Map<string, Promise<Buffer>>;
  put(item: QueueItem): void;
  remaining(): number;
  deletePending(promptId: string): void;
  /** Interrupts the running prompt (all prompts when `promptId` is undefined). */
  interrupt(promptId: string | undefined): void;
  release(): void;
  kick(): void;
  /** Forgets everything, as a restarted server does. */
  reset(): void;
}

type Emit = (type: string, data: Record<string, unknown>, clientId: string | null) => void;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const ts = () => Date.now();

/** The node of `classType` found by walking up the links from `start` (SaveImage → … → EmptyFlux2LatentImage). */
function upstream(graph: PromptGraph, start: string, classType: string): Record<string, unknown> | null {
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = graph[id];
    if (!node) continue;
    if (node.class_type === classType) return node.inputs;
    for (const v of Object.values(node.inputs)) if (Array.isArray(v) && v.length === 2) queue.push(String(v[0]));
  }
  return null;
}

/** Nodes reachable from the outputs, dependencies first. */
function executionOrder(graph: PromptGraph, outputs: string[]): string[] {
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id) || !graph[id]) return;
    for (const v of Object.values(graph[id].inputs)) if (Array.isArray(v) && v.length === 2) visit(String(v[0]));
    order.push(id);
  };
  outputs.forEach(visit);
  return order;
}

export function createExecutor(behaviour: ExecutorBehaviour, emit: Emit, queueChanged: () => void): Executor {
  const pending: QueueItem[] = [];
  const history = new Map<string, HistoryEntry>();
  const files = new Map<string, Promise<Buffer>>();
  const counters = new Map<string, number>();
  let running: QueueItem | null = null;
  let interruptRequested = false;
  let releaseHold: (() => void) | null = null;
  let generation = 0; // bumped by reset() so a prompt running across a "restart" leaves no trace

  const save = (graph: PromptGraph, saveId: string): ImageRef[] => {
    const latent = upstream(graph, saveId, 'EmptyFlux2LatentImage') ?? { width: 1024, height: 1024, batch_size: 1 };
    const noise = upstream(graph, saveId, 'RandomNoise');
    // The latent is H/16 × W/16, so the decoded image is the size rounded down to a multiple of 16.
    const w = Math.floor(Number(latent.width) / 16) * 16;
    const h = Math.floor(Number(latent.height) / 16) * 16;
    const prefix = String(graph[saveId]!.inputs.filename_prefix);
    const slash = prefix.lastIndexOf('/');
    const subfolder = slash >= 0 ? prefix.slice(0, slash) : '';
    const base = prefix.slice(slash + 1);
    return Array.from({ length: Number(latent.batch_size) || 1 }, (_, i) => {
      const counter = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, counter);
      const filename = `${base}_${String(counter).padStart(5, '0')}_.png`;
      files.set(`${subfolder}/${filename}`, renderSample(w, h, 'png', Number(noise?.noise_seed ?? 0) + i));
      return { filename, subfolder, type: 'output' as const };
    });
  };

  const run = async (item: QueueItem): Promise<void> => {
    const mine = generation;
    const sid = typeof item.extraData.client_id === 'string' ? item.extraData.client_id : null;
    const prompt_id = item.promptId;
    const messages: HistoryEntry['status']['messages'] = [];
    const send = (type: string, data: Record<string, unknown>, inHistory = false) => {
      if (mine !== generation) return;
      emit(type, data, sid);
      if (inHistory) messages.push([type, data]);
    };
    send('execution_start', { prompt_id, timestamp: ts() }, true);
    send('execution_cached', { nodes: [], prompt_id, timestamp: ts() }, true);
    const outputs: HistoryEntry['outputs'] = {};
    const executed: string[] = [];
    let result: 'success' | 'error' | 'interrupted' = 'success';
    let failedAt: string | null = null;
    const outcome = item.outcome;
    for (const id of executionOrder(item.graph, item.outputs)) {
      const node = item.graph[id]!;
      if (interruptRequested) { result = 'interrupted'; failedAt = id; break; }
      send('executing', { node: id, display_node: id, prompt_id });
      if (node.class_type === 'SamplerCustomAdvanced') {
        const steps = Math.max(1, Number(upstream(item.graph, id, 'Flux2Scheduler')?.steps ?? 20));
        for (let value = 1; value <= steps && !interruptRequested; value++) {
          await sleep(behaviour.processingMs / steps);
          if (interruptRequested) break;
          send('progress', { value, max: steps, prompt_id, node: id });
          if (behaviour.holdAtStep === value) await new Promise<void>((resolve) => { releaseHold = resolve; });
        }
        if (interruptRequested) { result = 'interrupted'; failedAt = id; break; }
      }
      if (outcome.kind === 'execution_error' && node.class_type === (outcome.nodeType ?? 'SamplerCustomAdvanced')) {
        result = 'error';
        failedAt = id;
        break;
      }
      if (node.class_type === 'SaveImage') {
        const images = save(item.graph, id);
        outputs[id] = { images };
        send('executed', { node: id, display_node: id, output: { images }, prompt_id });
        if (outcome.kind === 'output_deleted') for (const i of images) files.delete(`${i.subfolder}/${i.filename}`);
      }
      executed.push(id);
    }
    if (result === 'success') send('execution_success', { prompt_id, timestamp: ts() }, true);
    if (result === 'interrupted') {
      send('execution_interrupted', { prompt_id, node_id: failedAt, node_type: item.graph[failedAt!]?.class_type, executed, timestamp: ts() }, true);
    }
    if (result === 'error' && outcome.kind === 'execution_error') {
      send('execution_error', {
        prompt_id, node_id: failedAt, node_type: item.graph[failedAt!]?.class_type, executed,
        exception_message: outcome.message ?? 'Fake ComfyUI node failure', exception_type: outcome.exceptionType ?? 'RuntimeError',
        traceback: ['  File "execution.py", line 1, in execute\n'], current_inputs: {}, current_outputs: {}, timestamp: ts(),
      }, true);
    }
    if (mine !== generation) return;
    history.set(prompt_id, {
      prompt: [item.number, prompt_id, item.graph, item.extraData, item.outputs],
      outputs,
      status: { status_str: result === 'success' ? 'success' : 'error', completed: result === 'success', messages },
      meta: Object.fromEntries(Object.keys(outputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }])),
    });
    running = null;
    interruptRequested = false;
    queueChanged();
    send('executing', { node: null, prompt_id });
    executor.kick();
  };

  const executor: Executor = {
    pending,
    get running() { return running; },
    history,
    files,
    put(item) {
      pending.push(item);
      pending.sort((a, b) => a.number - b.number);
      queueChanged();
      executor.kick();
    },
    remaining: () => pending.length + (running ? 1 : 0),
    deletePending(promptId) {
      const i = pending.findIndex((p) => p.promptId === promptId);
      if (i >= 0) { pending.splice(i, 1); queueChanged(); }
    },
    interrupt(promptId) {
      if (!running || (promptId !== undefined && running.promptId !== promptId)) return;
      interruptRequested = true;
      executor.release();
    },
    release() {
      const r = releaseHold;
      releaseHold = null;
      r?.();
    },
    kick() {
      if (running || behaviour.paused || pending.length === 0) return;
      running = pending.shift()!;
      queueChanged();
      void run(running);
    },
    reset() {
      generation++;
      pending.length = 0;
      running = null;
      interruptRequested = false;
      history.clear();
      files.clear();
      executor.release();
    },
  };
  return executor;
}
