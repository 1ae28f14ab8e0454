import { useId, type ReactNode } from 'react';
import './segmented.css';

interface SegmentedProps<T extends string> {
  label: string;
  value: T;
  options: readonly { value: T; label: ReactNode; title?: string }[];
  onChange: (value: T) => void;
  /** Labelled by an existing element instead of a visually hidden legend. */
  labelledBy?: string;
}

/** A radio group styled as a segmented control: arrow keys move, Tab leaves (native radio behaviour). */
export function Segmented<T extends string>({ label, value, options, onChange, labelledBy }: SegmentedProps<T>) {
  const name = useId();
  return (
    <div className="segmented" role="radiogroup" aria-label={labelledBy ? undefined : label} aria-labelledby={labelledBy}>
      {options.map((option) => (
        <label key={option.value} className="segmented__option" title={option.title}>
          <input
            type="radio"
            className="visually-hidden"
            name={name}
            value={option.value}
            checked={option.value === value}
            onChange={() => onChange(option.value)}
          />
          <span className="segmented__face">{option.label}</span>
        </label>
      ))}
    </div>
  );
}
