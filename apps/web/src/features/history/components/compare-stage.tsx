import { useId, useState } from 'react';
import type { Generation, Image } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { CloseIcon } from '#/components/ui/icons';
import { Segmented } from '#/components/ui/segmented';
import { useGenerationVersions } from '#/features/generations/hooks/use-generations';
import { layoutVersions } from '#/features/generations/versions';
import { CompareView } from './compare-view';

interface Candidate {
  generation: Generation;
  image: Image;
  number: number;
}

/** The versions a generation can be compared with: every other finished one in its version graph. */
export function useCompareCandidates(g: Generation): { candidates: Candidate[]; numberOf: (id: string) => number | undefined } {
  const versions = useGenerationVersions(g.id);
  if (!versions.data) return { candidates: [], numberOf: () => undefined };
  const rows = layoutVersions(versions.data);
  const numbers = new Map(rows.map((r) => [r.generation.id, r.number]));
  const candidates = rows
    .filter((r) => r.generation.id !== g.id && r.generation.status === 'succeeded' && r.generation.images[0])
    .map((r) => ({ generation: r.generation, image: r.generation.images[0]!, number: r.number }));
  return { candidates, numberOf: (id) => numbers.get(id) };
}

interface CompareStageProps {
  generation: Generation;
  image: Image;
  onExit: () => void;
}

/** The detail's stage in compare mode: which version to compare with, slider or side by side, and the view. */
export function CompareStage({ generation: g, image, onExit }: CompareStageProps) {
  const { candidates, numberOf } = useCompareCandidates(g);
  const [chosen, setChosen] = useState<string | null>(null);
  const [mode, setMode] = useState<'slider' | 'side'>('slider');
  const selectId = useId();
  // The parent by default: "what did this edit change?" is the usual question.
  const other = candidates.find((c) => c.generation.id === chosen) ?? candidates.find((c) => c.generation.id === g.parent_id) ?? candidates[0];
  const thisNumber = numberOf(g.id);

  if (!other) {
    return (
      <div className="compare-stage compare-stage--empty">
        <p>No other finished version to compare with yet.</p>
        <Button size="sm" onClick={onExit}>
          Back to the image
        </Button>
      </div>
    );
  }

  const labelOf = (c: Candidate) => `v${c.number}${c.generation.id === g.parent_id ? ' (parent)' : ''}`;
  const self = { image, label: thisNumber ? `v${thisNumber} · this` : 'This', alt: `This version: ${g.prompt}` };
  const that = { image: other.image, label: `v${other.number}`, alt: `Version ${other.number}: ${other.generation.prompt}` };
  // The older version on the left, as a before/after reads.
  const isOtherOlder = thisNumber === undefined || other.number < thisNumber;

  return (
    <div className="compare-stage">
      <div className="compare-stage__bar">
        <label className="compare-stage__pick" htmlFor={selectId}>
          <span>Compare with</span>
          <select id={selectId} className="input compare-stage__select" value={other.generation.id} onChange={(event) => setChosen(event.target.value)}>
            {candidates.map((c) => (
              <option key={c.generation.id} value={c.generation.id}>
                {labelOf(c)} — {c.generation.prompt.slice(0, 48)}
              </option>
            ))}
          </select>
        </label>
        <Segmented
          label="Comparison layout"
          value={mode}
          onChange={setMode}
          options={[
            { value: 'slider', label: 'Slider' },
            { value: 'side', label: 'Side by side' },
          ]}
        />
        <Button size="sm" variant="secondary" icon={<CloseIcon size={14} />} onClick={onExit} className="compare-stage__done">
          Done
        </Button>
      </div>
      <div className="compare-stage__view">
        <CompareView key={`${other.generation.id}-${mode}`} before={isOtherOlder ? that : self} after={isOtherOlder ? self : that} mode={mode} ratio={image.width / image.height} />
      </div>
    </div>
  );
}
