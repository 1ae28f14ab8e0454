import { useCallback, useMemo } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { Generation, Image, Model } from '@atelier/contracts';
import { useToast } from '#/components/ui/toast';
import { modelsQuery } from '#/features/models/api';
import { addImageReference } from '#/features/references/reference-store';
import { getDraft, refineGeneration, selectedModel } from '../draft-store';

export interface ReferenceActions {
  /** Adds an image from the history to the reference tray (no upload: the server has it). */
  addAsReference: (g: Generation, image?: Image) => void;
  /** Loads a finished image into the panel as the start of its next version. */
  refine: (g: Generation, image?: Image) => void;
}

/**
 * "Use as reference" and "Refine" for cards and the detail view. The model and draft are read when the
 * action runs, not subscribed to, so the history grid does not re-render on every keystroke.
 */
export function useReferenceActions(): ReferenceActions {
  const client = useQueryClient();
  const toast = useToast();

  const models = useCallback((): Model[] => client.getQueryData(modelsQuery.queryKey) ?? [], [client]);

  const addAsReference = useCallback(
    (g: Generation, image: Image | undefined = g.images[0]) => {
      if (!image) return;
      const model = selectedModel(models(), getDraft().modelId);
      if (!model) return;
      if (model.max_reference_images === 0) {
        const editor = models().find((m) => m.max_reference_images > 0);
        toast.error(`${model.label} takes no reference images`, editor ? `Choose a model that does, such as ${editor.label}.` : 'No model on this server takes reference images.');
        return;
      }
      const result = addImageReference({ id: image.id, thumbnailUrl: image.thumbnail_url, name: g.prompt }, model.max_reference_images);
      if (result.outcome === 'added') toast.success(`Added as image ${result.position}`, 'Refer to it in the prompt by that name.');
      else if (result.outcome === 'duplicate') toast.show({ tone: 'info', title: `Already in the tray as image ${result.position}` });
      else toast.error(`${model.label} takes at most ${model.max_reference_images} reference images`, 'Remove one from the tray first.');
    },
    [models, toast],
  );

  const refine = useCallback(
    (g: Generation, image: Image | undefined = g.images[0]) => {
      if (!image) return;
      const list = models();
      // Refining needs a model that takes an input image: the original one when it can, else the chosen one, else any.
      const original = list.find((m) => m.id === g.model);
      const chosen = selectedModel(list, getDraft().modelId);
      const model = [original, chosen, ...list].find((m) => m && m.max_reference_images > 0);
      if (!model) {
        toast.error('No model on this server can edit images', 'Refining needs a model that takes reference images.');
        return;
      }
      refineGeneration(g, image, model.id);
      if (model.id !== g.model) toast.show({ tone: 'info', title: `Refining with ${model.label}`, description: `${g.model_label} cannot take an input image.` });
    },
    [models, toast],
  );

  return useMemo(() => ({ addAsReference, refine }), [addAsReference, refine]);
}
