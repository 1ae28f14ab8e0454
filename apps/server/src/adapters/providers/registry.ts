import type { Config } from '#src/config.ts';
import type { UpscalerLogger } from '#src/adapters/imaging/upscaler/upscaler.ts';
import { createBflEngine } from './bfl/bfl-engine.ts';
import { createComfyUiEngine } from './comfyui/comfyui-engine.ts';
import type { EngineId, ImageEngine } from './engine.ts';
import { createFalEngine } from './fal/fal-engine.ts';
import { createOfflineEngine } from './offline/offline-engine.ts';
import { createOpenAiImagesEngine } from './openai/openai-engine.ts';
import { createReplicateEngine } from './replicate/replicate-engine.ts';

/** The engines this server can use: the offline engine always, the others when configured. */
export type Engines = Map<EngineId, ImageEngine>;

/** Releases what engines hold open (ComfyUI's WebSockets, the offline engine's upscaler thread). */
export function closeEngines(engines: Engines): void {
  for (const engine of engines.values()) if ('close' in engine && typeof engine.close === 'function') engine.close();
}

export function createEngines(config: Config['engines'], opts: { logger?: UpscalerLogger } = {}): Map<EngineId, ImageEngine> {
  const engines = new Map<EngineId, ImageEngine>([['offline', createOfflineEngine(opts)]]);
  if (config.bfl) engines.set('bfl', createBflEngine(config.bfl));
  if (config.comfyui) engines.set('comfyui', createComfyUiEngine(config.comfyui));
  if (config.fal) engines.set('fal', createFalEngine(config.fal));
  if (config.replicate) engines.set('replicate', createReplicateEngine(config.replicate));
  if (config.openai) engines.set('openai', createOpenAiImagesEngine(config.openai));
  return engines;
}
