/**
 * Display formatting. Every time shown names its zone: the browser's own, or an export's IANA zone where the
 * export has one, with the UTC instant on hover. Counts go through `plural`, so "1 run" never reads "1 runs".
 */

/** "1 run", "3 runs", "1,200 rows"; `many` for irregular plurals. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

interface ZonedParts { date: string; time: string; zone: string }

const partsFormatters = new Map<string, Intl.DateTimeFormat>();
/** Date (YYYY-MM-DD), time (HH:MM) and the zone's short name of an instant in `timeZone` (undefined: the browser's). */
export function zonedParts(iso: string, timeZone?: string): ZonedParts {
  const key = timeZone ?? '';
  let f = partsFormatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
    });
    partsFormatters.set(key, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}`, zone: p.timeZoneName ?? timeZone ?? 'local' };
}

/** The UTC instant, for hover text: "2024-01-10 01:00:00 UTC". */
export const utcText = (iso: string) => `${new Date(iso).toISOString().replace('T', ' ').slice(0, 19)} UTC`;

/** An instant as "2024-01-10 02:00 CET" in `timeZone` (undefined: the browser's zone, named too). */
export function formatDate(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return '—';
  const p = zonedParts(iso, timeZone);
  return `${p.date} ${p.time} ${p.zone}`;
}

/** An interval `[start, end)` in `timeZone` (default UTC), compact when both ends share a day, zone named. */
export function formatInterval(start: string, end: string, timeZone = 'UTC'): string {
  const s = zonedParts(start, timeZone);
  const e = zonedParts(end, timeZone);
  const zone = s.zone === e.zone ? ` ${s.zone}` : '';
  const endText = s.date === e.date ? e.time : `${e.date} ${e.time}`;
  return `${s.date} ${s.time}${zone ? '' : ` ${s.zone}`} – ${endText}${zone || ` ${e.zone}`}`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
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

/** The instant's wall-clock time in `timeZone` as a datetime-local value ("2024-01-10T01:00"). */
export function isoToZonedInput(date: Date, timeZone: string): string {
  const p = zonedParts(date.toISOString(), timeZone);
  return `${p.date}T${p.time}`;
}

/** Minutes `timeZone` is ahead of UTC at the instant `ms`. */
function zoneOffsetMinutes(ms: number, timeZone: string): number {
  const p = zonedParts(new Date(ms).toISOString(), timeZone);
  return (Date.parse(`${p.date}T${p.time}:00Z`) - Math.floor(ms / 60_000) * 60_000) / 60_000;
}

/**
 * A datetime-local value read as wall-clock time in `timeZone`, to a UTC ISO string (empty stays undefined).
 * Around a DST change: an ambiguous autumn time takes its first instant (summer time); a time the spring change
 * skips is read with the offset before the change, so it moves forward by the gap (02:30 becomes 03:30).
 */
export function zonedInputToIso(value: string, timeZone: string): string | undefined {
  if (!value) return undefined;
  const asUtc = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  if (!Number.isFinite(asUtc)) return undefined;
  const wall = value.slice(0, 16);
  // No zone changes its offset twice within a day: the offsets 12 h either side are every candidate.
  const before = zoneOffsetMinutes(asUtc - 12 * 3600_000, timeZone);
  const after = zoneOffsetMinutes(asUtc + 12 * 3600_000, timeZone);
  const matching = [before, after].map((o) => asUtc - o * 60_000).filter((ms) => isoToZonedInput(new Date(ms), timeZone) === wall);
  return new Date(matching.length ? Math.min(...matching) : asUtc - before * 60_000).toISOString();
}

/**
 * When the attempt now running (or the one that finished the run) started. startedAt is the FIRST attempt's: a
 * retried 100 ms run timed from it reads 55 s. attemptStartedAt is null while a retry waits for a worker.
 */
export function currentAttemptStart(r: { startedAt: string | null; attemptStartedAt?: string | null }): string | null {
  return r.attemptStartedAt !== undefined ? r.attemptStartedAt : r.startedAt;
}

export interface RunProgress {
  /** Seconds since the latest attempt started, up to `now` (or finishedAt). */
  elapsed: number | null;
  /** Rows read per second, from the server's own timestamps (startedAt to the latest heartbeat). */
  rowsPerSecond: number | null;
  /** Seconds left at that rate, when the source reported a total. */
  eta: number | null;
}

/**
 * Rate and ETA of a run from what the API reports, on the server's clock (a skewed browser clock does not distort
 * them): rows read since `baseline` (a sample of this attempt seen earlier) up to heartbeatAt, else since the
 * current attempt's start. Without attemptStartedAt, startedAt is the FIRST attempt's start, so for a
 * retried run only a baseline gives a rate. The ETA is the rest of recordsTotalCount at that rate.
 */
export function runProgress(
  r: {
    startedAt: string | null; attemptStartedAt?: string | null; heartbeatAt?: string | null; finishedAt: string | null;
    recordsRead: number; recordsTotalCount: number | null; attempt?: number;
  },
  baseline?: { read: number; at: number },
  now = Date.now(),
): RunProgress {
  const startedAt = currentAttemptStart(r);
  if (!startedAt) return { elapsed: null, rowsPerSecond: null, eta: null };
  const started = Date.parse(startedAt);
  const elapsed = Math.max(0, ((r.finishedAt ? Date.parse(r.finishedAt) : now) - started) / 1000);
  const measuredTo = r.heartbeatAt ? Date.parse(r.heartbeatAt) : NaN;
  // recordsRead restarts at 0 with each attempt, so the current attempt's start is a true baseline; the first
  // attempt's startedAt is one only when there was no other attempt.
  const from = baseline ?? (r.attemptStartedAt !== undefined || (r.attempt ?? 1) <= 1 ? { read: 0, at: started } : undefined);
  const seconds = from ? (measuredTo - from.at) / 1000 : NaN;
  const rows = from ? r.recordsRead - from.read : 0;
  const rowsPerSecond = seconds > 0 && rows > 0 ? rows / seconds : null;
  const left = r.recordsTotalCount === null ? null : Math.max(0, r.recordsTotalCount - r.recordsRead);
  const eta = left === 0 ? 0 : rowsPerSecond && left !== null ? left / rowsPerSecond : null;
  return { elapsed, rowsPerSecond, eta };
}
