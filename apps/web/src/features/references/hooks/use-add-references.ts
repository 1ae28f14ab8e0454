import { useCallback } from 'react';
import type { Model } from '@atelier/contracts';
import { useToast } from '#/components/ui/toast';
import { addImageReference, addReferenceFiles } from '../reference-store';

export interface AddReferences {
  addFiles: (files: readonly File[]) => void;
  addImage: (image: { id: string; thumbnailUrl: string; name: string }) => void;
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

  return { addFiles, addImage };
}
