import { z } from 'zod';
import type { Model } from './models.ts';

/** Billing megapixel: 1024 × 1024 pixels (the catalogue's max_pixels uses the same unit). */
export const MEGAPIXEL = 1024 * 1024;

export interface QuoteRequest {
  width: number;
  height: number;
  /** How many reference images go in. */
  references: number;
  /** How many images (variations) are made. */
  count: number;
}

export const quoteSchema = z.object({
  credits: z.number().int().min(0).describe('Total credits this request costs'),
  per_image: z.number().int().min(0),
  count: z.number().int().min(1),
  output_megapixels: z.number().int().min(1).describe('Billed megapixels per output image (rounded up)'),
  references: z.number().int().min(0),
  breakdown: z.array(z.object({ label: z.string(), credits: z.number().int() })),
});
export type Quote = z.infer<typeof quoteSchema>;

/**
 * The price of a request, from the catalogue: per image, the model's price per started megapixel of
 * output plus its price per reference image; times the number of images. One function, used by the
 * studio (shown before Generate), the API (`POST /v1/generations/quote`) and, later, the ledger.
 */
export function quoteCredits(model: Pick<Model, 'price_credits' | 'price_per_reference_credits'>, req: QuoteRequest): Quote {
  const outputMp = Math.max(1, Math.ceil((req.width * req.height) / MEGAPIXEL));
  const output = model.price_credits * outputMp;
  const refs = model.price_per_reference_credits * req.references;
  const perImage = output + refs;
  const breakdown = [{ label: `${outputMp} MP output × ${model.price_credits}`, credits: output }];
  if (req.references > 0) breakdown.push({ label: `${req.references} reference${req.references === 1 ? '' : 's'} × ${model.price_per_reference_credits}`, credits: refs });
  if (req.count > 1) breakdown.push({ label: `× ${req.count} images`, credits: perImage * req.count });
  return { credits: perImage * req.count, per_image: perImage, count: req.count, output_megapixels: outputMp, references: req.references, breakdown };
}
