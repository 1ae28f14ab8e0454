import { describe, expect, it } from 'vitest';
import type { Model } from '@atelier/contracts';
import type { ReferenceTile, ReferenceTray } from './reference-store';
import { highestMention, referenceProblem } from './rules';

const model = (max: number) => ({ label: 'FLUX.2 [klein]', max_reference_images: max }) as Model;
const tile = (status: ReferenceTile['status'] = 'ready'): ReferenceTile => ({
  key: Math.random().toString(36),
  kind: 'upload',
  id: status === 'ready' ? 'id' : null,
  thumbnailUrl: '',
  localUrl: null,
  name: 'x.png',
  status,
  progress: 0,
  error: status === 'failed' ? 'refused' : null,
  canRetry: false,
});
const tray = (...tiles: ReferenceTile[]): ReferenceTray => ({ tiles, parent: null });

describe('referenceProblem', () => {
  it('lets references within the model’s limit through, and an empty tray on any model', () => {
    expect(referenceProblem(tray(tile(), tile()), model(4))).toBeNull();
    expect(referenceProblem(tray(), model(0))).toBeNull();
  });

  it('blocks when the model takes fewer than the tray holds, saying how many to remove', () => {
    expect(referenceProblem(tray(tile(), tile(), tile()), model(2))).toMatch(/up to 2 reference images: remove 1/);
    expect(referenceProblem(tray(tile()), model(0))).toMatch(/takes no reference images/);
  });

  it('blocks on a failed upload but not on one still running (Generate waits for those)', () => {
    expect(referenceProblem(tray(tile(), tile('failed')), model(4))).toMatch(/could not be uploaded/);
    expect(referenceProblem(tray(tile('uploading')), model(4))).toBeNull();
  });
});

describe('highestMention', () => {
  it('finds the highest "image N" the prompt refers to', () => {
    expect(highestMention('Put the cat from image 2 on the sofa of Image 10, lit like image #3')).toBe(10);
    expect(highestMention('An imagery of 3 cats')).toBe(0);
  });
});
