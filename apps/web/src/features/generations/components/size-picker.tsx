import { useId } from 'react';
import { ASPECT_RATIOS, type AspectRatio, type Model } from '@atelier/contracts';
import { FieldGroupLabel } from '#/components/ui/field';
import { IconButton } from '#/components/ui/button';
import { SwapIcon } from '#/components/ui/icons';
import { formatMegapixels } from '#/lib/format';
import type { Draft } from '../draft-store';
import { checkCustomSize, presetSize } from '../size';
import { RatioGlyph } from './ratio-glyph';
import './size-picker.css';

interface SizePickerProps {
  draft: Pick<Draft, 'sizeMode' | 'aspectRatio' | 'width' | 'height'>;
  model: Model | undefined;
  onChange: (patch: Partial<Draft>) => void;
  /** Errors the server returned for these fields. */
  serverErrors: { aspect_ratio?: string | undefined; width?: string | undefined; height?: string | undefined };
}

export function SizePicker({ draft, model, onChange, serverErrors }: SizePickerProps) {
  const id = useId();
  const isCustom = draft.sizeMode === 'custom';
  const preset = presetSize(draft.aspectRatio, model);
  const custom = checkCustomSize(draft.width, draft.height, model);
  const hasNumbers = Number.isFinite(custom.width) && Number.isFinite(custom.height);
  const shown = isCustom ? (hasNumbers ? custom : null) : preset;
  const isInvalid = isCustom && !custom.isValid;

  const chooseRatio = (ratio: AspectRatio) => {
    const size = presetSize(ratio, model);
    // Seed the custom inputs from the preset, so switching to Custom starts from something sensible.
    onChange({ sizeMode: 'ratio', aspectRatio: ratio, width: String(size.width), height: String(size.height) });
  };

  const widthError = serverErrors.width ?? (isCustom ? custom.problems.width : undefined);
  const heightError = serverErrors.height ?? (isCustom ? custom.problems.height : undefined);
  const sizeError = isCustom ? custom.problems.size : undefined;
  const dimensionInput = (side: 'width' | 'height') => (
    <label className="custom-size__field">
      <span className="custom-size__label">{side === 'width' ? 'W' : 'H'}</span>
      <input
        className="input"
        inputMode="numeric"
        type="number"
        min={model?.min_dimension}
        max={model?.max_dimension}
        step={model?.dimension_multiple ?? 16}
        value={draft[side]}
        aria-label={`${side === 'width' ? 'Width' : 'Height'} in pixels`}
        aria-invalid={(side === 'width' ? widthError : heightError) ? true : undefined}
        aria-describedby={`${id}-size-msg`}
        onChange={(e) => onChange({ [side]: e.target.value })}
      />
    </label>
  );
  const needsSnap = isCustom && custom.snapped && (custom.snapped.width !== custom.width || custom.snapped.height !== custom.height);

  return (
    <div className="size-picker">
      <FieldGroupLabel
        id={`${id}-label`}
        aside={
          <span className={`size-picker__summary${isInvalid ? ' size-picker__summary--invalid' : ''}`}>
            {shown ? (
              <>
                {shown.width} × {shown.height} <span className="size-picker__mp">· {formatMegapixels(shown.width, shown.height)}</span>
              </>
            ) : (
              '—'
            )}
          </span>
        }
      >
        Size
      </FieldGroupLabel>
      <div className="ratio-chips" role="radiogroup" aria-labelledby={`${id}-label`}>
        {ASPECT_RATIOS.map((ratio) => (
          <label key={ratio} className="ratio-chip">
            <input
              type="radio"
              className="visually-hidden"
              name={`${id}-ratio`}
              checked={!isCustom && draft.aspectRatio === ratio}
              onChange={() => chooseRatio(ratio)}
            />
            <span className="ratio-chip__face">
              <RatioGlyph ratio={ratio} />
              <span>{ratio}</span>
            </span>
          </label>
        ))}
        <label className="ratio-chip">
          <input
            type="radio"
            className="visually-hidden"
            name={`${id}-ratio`}
            checked={isCustom}
            onChange={() => onChange({ sizeMode: 'custom' })}
          />
          <span className="ratio-chip__face">
            <span className="ratio-chip__custom" aria-hidden="true">
              W×H
            </span>
            <span>Custom</span>
          </span>
        </label>
      </div>
      {serverErrors.aspect_ratio && <p className="field__error">{serverErrors.aspect_ratio}</p>}

      {isCustom && (
        <div className="custom-size">
          <div className="custom-size__inputs">
            {dimensionInput('width')}
            <IconButton label="Swap width and height" size="sm" onClick={() => onChange({ width: draft.height, height: draft.width })}>
              <SwapIcon size={15} />
            </IconButton>
            {dimensionInput('height')}
          </div>
          <div id={`${id}-size-msg`} className="custom-size__messages" aria-live="polite">
            {[widthError, heightError, sizeError].filter(Boolean).map((message) => (
              <p key={message} className="field__error">
                {message}
              </p>
            ))}
            {needsSnap && custom.snapped && (
              <button type="button" className="custom-size__snap" onClick={() => onChange({ width: String(custom.snapped!.width), height: String(custom.snapped!.height) })}>
                Use nearest valid: {custom.snapped.width} × {custom.snapped.height}
              </button>
            )}
            {model && !widthError && !heightError && !sizeError && (
              <p className="field__hint">
                {model.min_dimension}–{model.max_dimension} px, multiples of {model.dimension_multiple}, up to {(model.max_pixels / 1_000_000).toFixed(1)} MP
              </p>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
