/** Display formatting: dates in the viewer's locale, sizes and durations short. */

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** An interval `[start, end)` in UTC, compact when both ends share a day. */
export function formatInterval(start: string, end: string): string {
  const s = start.replace('T', ' ').slice(0, 16);
  const e = end.replace('T', ' ').slice(0, 16);
  return s.slice(0, 10) === e.slice(0, 10) ? `${s} – ${e.slice(11)} UTC` : `${s} – ${e} UTC`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export const formatCount = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toLocaleString());

/** RunStatus enum value to the words the UI shows ("FAILED_RETRYABLE" -> "Retrying"). */
export function statusLabel(status: string): string {
  const labels: Record<string, string> = {
    STARTING: 'Starting', RUNNING: 'Running', COMPLETED: 'Completed', FAILED: 'Failed', FAILED_RETRYABLE: 'Retrying',
    CANCELLED: 'Cancelled', TIMED_OUT: 'Timed out',
  };
  return labels[status] ?? status;
}

export const INTERVAL_LABELS: Record<string, string> = {
  EVERY_5_MINUTES: 'Every 5 minutes', EVERY_15_MINUTES: 'Every 15 minutes', HOUR: 'Hourly', DAY: 'Daily', WEEK: 'Weekly',
};

/** `<input type="datetime-local">` value read as UTC, to an ISO string (empty stays undefined). */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  return new Date(`${value.length === 16 ? `${value}:00` : value}Z`).toISOString();
}

export function isoToLocalInput(date: Date): string {
  return date.toISOString().slice(0, 16);
}
