import type { GenerationStatus } from '@atelier/contracts';
import { STATUS_LABEL, STATUS_TONE } from '../status';

export function StatusBadge({ status }: { status: GenerationStatus }) {
  const tone = STATUS_TONE[status];
  return (
    <span className={`badge${tone ? ` badge--${tone}` : ''}`}>
      {(status === 'queued' || status === 'running') && <span className="status-dot" aria-hidden="true" />}
      {STATUS_LABEL[status]}
    </span>
  );
}
