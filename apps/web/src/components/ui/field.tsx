import { useId, type ReactNode } from 'react';
import './field.css';

interface FieldProps {
  label: ReactNode;
  /** Renders the control; receives the ids to wire `id` and `aria-describedby`. */
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
  hint?: ReactNode;
  error?: string | undefined;
  /** Extra content on the label row, right-aligned (a counter, a small action). */
  aside?: ReactNode;
  className?: string;
}

/** A labelled control with its hint and error message announced to screen readers. */
export function Field({ label, children, hint, error, aside, className }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={['field', className].filter(Boolean).join(' ')}>
      <div className="field__row">
        <label className="field__label" htmlFor={id}>
          {label}
        </label>
        {aside}
      </div>
      {children({ id, describedBy, invalid: Boolean(error) })}
      {error && (
        <p className="field__error" id={errorId}>
          {error}
        </p>
      )}
      {hint && !error && (
        <p className="field__hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** A heading-styled label for a group of controls (radio chips, segmented controls). */
export function FieldGroupLabel({ id, children, aside }: { id: string; children: ReactNode; aside?: ReactNode }) {
  return (
    <div className="field__row">
      <span className="field__label" id={id}>
        {children}
      </span>
      {aside}
    </div>
  );
}
