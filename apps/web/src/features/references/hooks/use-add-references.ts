import { useCallback } from 'react';
import type { Model } from '@atelier/contracts';
import { useToast } from '#/components/ui/toast';
import { addImageReference, addReadyReferences, addReferenceFiles, type ReadyReference } from '../reference-store';

export interface AddReferences {
  addFiles: (files: readonly File[]) => void;
  addImage: (image: { id: string; thumbnailUrl: string; name: string }) => void;
  /** Adds references the server already has (library picks, a kit), in order; says what did not fit. Returns how many were added. */
  addReady: (list: readonly ReadyReference[], source?: string) => number;
}

/** Adds to the tray within the selected model's limit, and says so when something is refused. */
export function useAddReferences(model: Model | undefined, models: readonly Model[]): AddReferences {
  const toast = useToast();

  const refuseNone = useCallback(() => {
    if (!model) return;
    const editor = models.find((m) => m.max_reference_images > 0);
    toast.error(`${model.label} takes no reference images`, editor ? `Choose a model that does, such as ${editor.label}, then add them.` : 'No model on this server takes reference images.');
  }, [model, models, toast]);

  const addFiles = useCallback(
    (files: readonly File[]) => {
      if (files.length === 0) return;
      if (model && model.max_reference_images === 0) return refuseNone();
      // Until the models have loaded, the API's own ceiling applies; the tray re-checks once they have.
      const limit = model?.max_reference_images ?? 10;
      const { refused } = addReferenceFiles(files, limit);
      if (refused > 0) {
        toast.error(
          `${model?.label ?? 'This model'} takes up to ${limit} reference images`,
          refused === files.length ? 'The tray is full: remove one first.' : `${refused} of the ${files.length} images were not added.`,
        );
      }
    },
    [model, refuseNone, toast],
  );

  const addImage = useCallback(
    (image: { id: string; thumbnailUrl: string; name: string }) => {
      if (model && model.max_reference_images === 0) return refuseNone();
      const limit = model?.max_reference_images ?? 10;
      const result = addImageReference(image, limit);
      if (result.outcome === 'duplicate') toast.show({ tone: 'info', title: `Already in the tray as image ${result.position}` });
      else if (result.outcome === 'full') toast.error(`${model?.label ?? 'This model'} takes at most ${limit} reference images`, 'Remove one from the tray first.');
    },
    [model, refuseNone, toast],
  );

  const addReady = useCallback(
    (list: readonly ReadyReference[], source = 'references') => {
      if (list.length === 0) return 0;
      if (model && model.max_reference_images === 0) {
        refuseNone();
        return 0;
      }
      const limit = model?.max_reference_images ?? 10;
      const { added, duplicates, refused } = addReadyReferences(list, limit);
      const already = duplicates > 0 ? ` ${duplicates === 1 ? 'One was' : `${duplicates} were`} already in the tray.` : '';
      if (refused > 0) {
        toast.error(
          `${model?.label ?? 'This model'} takes up to ${limit} reference images`,
          added > 0 ? `Added ${added} of the ${source}; ${refused} did not fit.${already} Remove some from the tray to make room.` : `The tray is full: none of the ${source} were added.${already}`,
        );
      } else if (added > 0) {
        toast.success(`Added ${added === 1 ? '1 reference' : `${added} references`} to the tray`, already ? already.trim() : undefined);
      } else {
        toast.show({ tone: 'info', title: 'Already in the tray', description: `The ${source} ${list.length === 1 ? 'is' : 'are'} in the tray already.` });
      }
      return added;
    },
    [model, refuseNone, toast],
  );

  return { addFiles, addImage, addReady };
}
