import type { Generation, Image, Model } from '@atelier/contracts';
import { ChevronDownIcon } from '#/components/ui/icons';
import { Menu, type MenuItem } from '#/components/ui/menu';
import { useToast } from '#/components/ui/toast';
import { useGenerationErrorToast } from '#/features/credits/hooks/use-generation-error-toast';
import { useModels } from '#/features/models/hooks/use-models';
import { useCreateGeneration } from '../hooks/use-generation-mutations';

interface UpscaleMenuProps {
  generation: Generation;
  image: Image;
  /** Shows another generation in the detail dialog (the upscale, so it is seen arriving). */
  onOpen: (id: string) => void;
}

/** Whether the upscale model can take this image: the result must fit its side and pixel limits. */
export function fitsUpscale(model: Pick<Model, 'upscale_factor' | 'max_dimension' | 'max_pixels'>, image: Pick<Image, 'width' | 'height'>): boolean {
  const factor = model.upscale_factor ?? 0;
  const width = image.width * factor;
  const height = image.height * factor;
  return factor > 0 && width <= model.max_dimension && height <= model.max_dimension && width * height <= model.max_pixels;
}

/**
 * "Upscale ×2 / ×4": a new version of this image, enlarged by one of the catalogue's upscale models
 * (the local AI upscaler). Only the factors the server offers and whose result fits its limits are
 * listed; with none, nothing is shown. The dialog moves to the new generation, so its progress shows.
 */
export function UpscaleMenu({ generation: g, image, onOpen }: UpscaleMenuProps) {
  const models = useModels();
  const create = useCreateGeneration();
  const toast = useToast();
  const showGenerationError = useGenerationErrorToast();
  const upscalers = (models.data ?? []).filter((m) => m.workflows.includes('upscale') && fitsUpscale(m, image)).sort((a, b) => (a.upscale_factor ?? 0) - (b.upscale_factor ?? 0));
  if (g.status !== 'succeeded' || upscalers.length === 0) return null;

  const upscale = (model: Model) =>
    create.mutate(
      { model: model.id, prompt: g.prompt, references: [image.id], parent: g.id, output_format: model.output_formats.includes(image.format) ? image.format : model.default_output_format },
      {
        onSuccess: (created) => {
          toast.show({ tone: 'info', title: `Upscaling ×${model.upscale_factor}`, description: 'A new version of this image; showing it as it arrives. Large images take a few minutes.' });
          onOpen(created.id);
        },
        onError: (error) => showGenerationError('Could not upscale it', error),
      },
    );

  const items: MenuItem[] = upscalers.map((m) => ({
    key: m.id,
    label: `Upscale ×${m.upscale_factor}`,
    hint: `${image.width * (m.upscale_factor ?? 1)} × ${image.height * (m.upscale_factor ?? 1)}`,
    onSelect: () => upscale(m),
  }));

  return (
    <Menu
      label="Upscale"
      align="start"
      items={items}
      trigger={(props) => (
        <button {...props} type="button" className="btn btn--secondary btn--sm" disabled={create.isPending} title="Enlarge this image 2× or 4× with the local AI upscaler, as a new version">
          <UpscaleIcon /> Upscale <ChevronDownIcon size={14} />
        </button>
      )}
    />
  );
}

/** Drawn like the UI kit's icons (24 grid, 1.8 stroke): a small frame growing into a large one. */
function UpscaleIcon() {
  return (
    <svg width={14} height={14} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <rect x="3.5" y="12.5" width="8" height="8" rx="1.5" />
      <path d="M11.5 3.5h7a2 2 0 0 1 2 2v7M14.5 9.5l6-6M15.5 3.5h5v5" />
    </svg>
  );
}
