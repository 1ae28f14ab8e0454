import type { Generation } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { useToast } from '#/components/ui/toast';
import { useGenerationErrorToast } from '#/features/credits/hooks/use-generation-error-toast';
import { useCreateGeneration } from '#/features/generations/hooks/use-generation-mutations';
import { RepeatIcon, ShuffleIcon } from '../icons';
import { canRerun, rerunRequest, varyRequest } from '../rerun';

interface RerunActionsProps {
  generation: Generation;
  /** Shows another generation in the detail dialog. */
  onOpen: (id: string) => void;
}

/**
 * "Vary" (same request, new seed, recorded as the next version: it appears under Versions as it arrives)
 * and "Re-run (same seed)" (an independent copy: the dialog moves to it, so it is seen arriving).
 * Both send the request straight to the API; the generate panel's draft is left alone.
 */
export function RerunActions({ generation: g, onOpen }: RerunActionsProps) {
  const create = useCreateGeneration();
  const toast = useToast();
  const showGenerationError = useGenerationErrorToast();
  if (!canRerun(g)) return null;

  const run = (kind: 'rerun' | 'vary') =>
    create.mutate(kind === 'rerun' ? rerunRequest(g) : varyRequest(g), {
      onSuccess: (created) => {
        if (kind === 'vary') {
          toast.show({ tone: 'info', title: 'Variation started', description: 'A new seed, listed under Versions as the next version of this image.' });
          return;
        }
        toast.show({ tone: 'info', title: g.seed !== null ? `Re-running with seed ${g.seed}` : 'Re-running', description: 'Showing the new image as it arrives.' });
        onOpen(created.id);
      },
      onError: (error) => showGenerationError(kind === 'rerun' ? 'Could not re-run it' : 'Could not make a variation', error),
    });

  const isVarying = create.isPending && create.variables?.parent === g.id;
  return (
    <div className="detail__actions detail__actions--versions">
      {g.status === 'succeeded' && (
        <Button size="sm" icon={<ShuffleIcon size={14} />} isBusy={isVarying} disabled={create.isPending} onClick={() => run('vary')} title="Same prompt and settings with a new seed, as the next version of this image">
          Vary
        </Button>
      )}
      <Button
        size="sm"
        icon={<RepeatIcon size={14} />}
        isBusy={create.isPending && !isVarying}
        disabled={create.isPending}
        onClick={() => run('rerun')}
        title={g.seed !== null ? `Run the same request again with seed ${g.seed}, as a new image` : 'Run the same request again, as a new image'}
      >
        {g.seed !== null ? 'Re-run (same seed)' : 'Re-run'}
      </Button>
    </div>
  );
}
