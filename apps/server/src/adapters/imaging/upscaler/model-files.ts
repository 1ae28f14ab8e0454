import fs from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import type { UpscaleFactor } from './protocol.ts';

/**
 * The upscaling networks ship inside the @upscalerjs/esrgan-slim npm package as TensorFlow.js layers
 * models (models/x2/model.json and models/x4/model.json, each with one weight shard). They are read from
 * disk here; nothing is ever fetched over the network.
 */
export const MODEL_PACKAGE = '@upscalerjs/esrgan-slim';

const require = createRequire(import.meta.url);

/** The installed package's root folder (its exports map does not expose package.json, so walk up from its entry). */
export function packageRoot(name: string): string {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`could not find the folder of the installed package ${name}`);
    dir = parent;
  }
}

export function modelDirectory(factor: UpscaleFactor): string {
  return path.join(packageRoot(MODEL_PACKAGE), 'models', `x${factor}`);
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** A tfjs IOHandler that loads model.json and its weight shards from a folder on disk. */
export function fileSystemModel(directory: string): io.IOHandler {
  return {
    async load(): Promise<io.ModelArtifacts> {
      const json = JSON.parse(await fs.readFile(path.join(directory, 'model.json'), 'utf8')) as ModelJson;
      const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
      const shards = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((p) => fs.readFile(path.join(directory, p))));
      const weights = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        ...(json.format ? { format: json.format } : {}),
        ...(json.generatedBy ? { generatedBy: json.generatedBy } : {}),
        ...(json.convertedBy ? { convertedBy: json.convertedBy } : {}),
      };
    },
  };
}
