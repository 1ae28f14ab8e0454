import fs from 'node:fs';

/**
 * Memory of another process, read from /proc by the bench (Linux; null elsewhere), so the reading does not
 * depend on that process's event loop being free.
 */

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resident set size now, in bytes. */
export const readRss = (pid: number) => statusField(pid, 'VmRSS');

/** The kernel's high-water mark of the resident set (VmHWM) since start or since the last `resetPeakRss`, in bytes. */
export const readPeakRss = (pid: number) => statusField(pid, 'VmHWM');

/** Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`); false where that is not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Peak RSS over a phase: the kernel's VmHWM when it can be reset (exact), else the highest of samples taken
 * every `intervalMs` (can miss a spike shorter than the interval).
 */
export function startPeakRss(pid: number, intervalMs = 20) {
  const exact = resetPeakRss(pid);
  let sampled = readRss(pid) ?? 0;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, readRss(pid) ?? 0);
  }, intervalMs);
  timer.unref();
  return {
    stop(): { peakBytes: number; source: 'VmHWM' | 'sampled' } {
      clearInterval(timer);
      sampled = Math.max(sampled, readRss(pid) ?? 0);
      const hwm = exact ? readPeakRss(pid) : null;
      return hwm === null ? { peakBytes: sampled, source: 'sampled' } : { peakBytes: Math.max(hwm, sampled), source: 'VmHWM' };
    },
  };
}
