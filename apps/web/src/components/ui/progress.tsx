import './progress.css';

/** A determinate bar for 0–1, or an indeterminate shimmer when progress is unknown (null). */
export function ProgressBar({ value, label }: { value: number | null; label: string }) {
  const percent = value === null ? undefined : Math.round(value * 100);
  return (
    <div
      className={`progress${value === null ? ' progress--indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
    >
      <div className="progress__fill" style={percent === undefined ? undefined : { width: `${Math.max(2, percent)}%` }} />
    </div>
  );
}
