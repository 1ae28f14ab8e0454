import { TERMINAL_STATUSES, type Generation, type GenerationStatus } from '@atelier/contracts';

export const STATUS_LABEL: Record<GenerationStatus, string> = {
  queued: 'Queued',
  running: 'Rendering',
  succeeded: 'Done',
  failed: 'Failed',
  canceled: 'Canceled',
  blocked: 'Blocked',
};

export const STATUS_TONE: Record<GenerationStatus, '' | 'accent' | 'success' | 'danger' | 'warning'> = {
  queued: '',
  running: 'accent',
  succeeded: 'success',
  failed: 'danger',
  canceled: '',
  blocked: 'warning',
};

export function isActive(g: Pick<Generation, 'status'>): boolean {
  return !TERMINAL_STATUSES.includes(g.status);
}

/** "Rendering · 42%" / "Queued" — what a card says while waiting. */
export function progressLabel(g: Generation): string {
  if (g.status === 'running' && g.progress !== null) return `${STATUS_LABEL.running} · ${Math.round(g.progress * 100)}%`;
  return STATUS_LABEL[g.status];
}
