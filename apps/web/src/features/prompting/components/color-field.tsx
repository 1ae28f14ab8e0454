import { useId } from 'react';
import { HEX_COLOR, nameColor } from '@atelier/contracts';

interface ColorFieldProps {
  /** Names the picker; the hex field is "<label> (hex)". */
  label: string;
  /** As typed: may be incomplete while the user types a hex. */
  value: string;
  error?: string | undefined;
  onChange: (value: string) => void;
}

/** A colour as a native picker plus its hex, typed or pasted, with the approximate name the prompt uses. */
export function ColorField({ label, value, error, onChange }: ColorFieldProps) {
  const id = useId();
  const hex = value.trim().toLowerCase();
  const isValid = HEX_COLOR.test(hex);
  return (
    <div className="color-field">
      <input type="color" className="color-field__swatch" aria-label={label} value={isValid ? hex : '#000000'} onChange={(e) => onChange(e.target.value)} />
      <input
        className="input mono color-field__hex"
        aria-label={`${label} (hex)`}
        value={value}
        maxLength={7}
        spellCheck={false}
        autoComplete="off"
        placeholder="#rrggbb"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => onChange(withHash(e.target.value))}
      />
      {isValid && !error && <span className="color-field__name">{nameColor(hex)}</span>}
      {error && (
        <p className="field__error color-field__error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** "02eb3c" → "#02eb3c": the # is easy to forget and pasted values often lack it. */
function withHash(raw: string): string {
  const v = raw.trim();
  return v && !v.startsWith('#') ? `#${v}` : v;
}
