/**
 * Interval math for export schedules: which `[start, end)` data interval an instant falls in, which intervals have
 * closed and are due, and how a backfill range splits into runs. Pure functions over `Date`s holding UTC instants:
 * no argument is mutated, nothing depends on the host's time zone or clock.
 *
 * Alignment rules (what a user sees in interval labels):
 * - `every_5_minutes`, `every_15_minutes`: aligned in UTC (:00, :05, ...), every interval exactly 5 / 15 minutes.
 *   Every zone offset in use today is a whole multiple of 15 minutes (the odd ones are +5:30, +5:45, +8:45,
 *   +12:45, +13:45, ...), so these boundaries are also the local :00/:05/:15 boundaries in every zone, DST included,
 *   and the time zone does not need to be consulted.
 * - `hour`: aligned to local hours in the export's time zone, so an hourly export in Asia/Kolkata (+5:30) runs
 *   on local :00 (UTC :30) and its intervals nest inside that export's days. An hour boundary is every instant at
 *   which the local clock reads HH:00:00, both readings counted when the clock is set back over it. Across a
 *   whole-hour DST shift (Paris, New York, Chatham) every hourly interval is therefore exactly one hour; across
 *   Lord Howe's 30-minute shift the interval spanning the shift is 90 minutes, in spring and in autumn.
 * - `day`: boundaries at `offsetHour`:00 local time every day; a local day is 23 h or 25 h long across DST.
 * - `week`: boundaries at `offsetHour`:00 local time on weekday `offsetDay` (0 = Sunday); 167 h or 169 h across DST.
 * - Day and week boundaries that do not exist (inside a spring-forward gap, e.g. 02:00 in Europe/Paris on the last
 *   Sunday of March) move to the first valid instant after the gap, the instant the clock jumped (03:00 there;
 *   02:30 for 02:00 on Lord Howe, 03:45 for 03:00 on Chatham).
 *   Boundaries whose local time happens twice (fall-back) take the first occurrence, so a day is never 1 h long.
 *
 * Bounds (`startAt`/`endAt`): intervals are never cut. An interval belongs to the export when it overlaps
 * `[startAt, endAt)`, i.e. `end > startAt` and `start < endAt`: every row inside the window is exported, and the
 * first and last intervals may reach past it. Exports are idempotent per interval, so full intervals are safe.
 *
 * Zone rules come from the runtime's ICU tzdata (Node 20.20 ships 2025c), read through `Intl.DateTimeFormat` and
 * memoised per zone (see interval-zone.ts); a hot scheduler tick costs about a microsecond per export.
 */
import { DURATIONS, firstInstantAtWallTime, instantsAtWallTime, wallTime, zoneClock, type ZoneClock } from './interval-zone';

const { HOUR, DAY } = DURATIONS;
const WEEK = 7 * DAY;
const MINUTE = 60_000;

export const INTERVAL_KINDS = ['every_5_minutes', 'every_15_minutes', 'hour', 'day', 'week'] as const;
export type IntervalKind = (typeof INTERVAL_KINDS)[number];

/** An export's schedule. Validate user input with `validateSchedule`; the other functions throw on invalid ones. */
export interface Schedule {
  interval: IntervalKind;
  /** IANA zone name for `hour`, `day` and `week` alignment. Default: 'UTC' (when null or undefined). */
  timezone: string;
  /** Hour of the local day (0-23) at which `day` and `week` intervals start. Default: 0. Other kinds accept only 0. */
  offsetHour?: number | null;
  /** Day of the week (0 = Sunday ... 6 = Saturday) at which `week` intervals start. Default: 0. Other kinds accept only 0. */
  offsetDay?: number | null;
  /** No interval ending at or before this instant is exported. */
  startAt?: Date | null;
  /** No interval starting at or after this instant is exported. Also caps backfills. */
  endAt?: Date | null;
}

/** A data interval: rows with `start <= _inserted_at < end`. */
export interface Interval {
  start: Date;
  end: Date;
}

export type ScheduleField = 'interval' | 'timezone' | 'offsetHour' | 'offsetDay' | 'startAt' | 'endAt';

export interface ScheduleIssue {
  field: ScheduleField;
  message: string;
}

/** Thrown by the interval functions when handed a schedule `validateSchedule` would reject. */
export class InvalidScheduleError extends Error {
  override readonly name = 'InvalidScheduleError';
  constructor(readonly issues: ScheduleIssue[]) {
    super(`invalid schedule: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}

/** Every problem with a schedule as `{ field, message }`; empty when the schedule is usable. Never throws. */
export function validateSchedule(schedule: { [K in keyof Schedule]?: unknown }): ScheduleIssue[] {
  const issues: ScheduleIssue[] = [];
  const { interval, timezone, offsetHour, offsetDay, startAt, endAt } = schedule ?? {};
  const kind = (INTERVAL_KINDS as readonly unknown[]).includes(interval) ? (interval as IntervalKind) : undefined;
  if (interval === undefined || interval === null) {
    issues.push({ field: 'interval', message: `interval is required; expected one of ${INTERVAL_KINDS.join(', ')}` });
  } else if (!kind) {
    issues.push({ field: 'interval', message: `unknown interval ${describe(interval)}; expected one of ${INTERVAL_KINDS.join(', ')}` });
  }

  if (timezone !== undefined && timezone !== null) {
    if (typeof timezone !== 'string') {
      issues.push({ field: 'timezone', message: `timezone must be an IANA time zone name, got ${describe(timezone)}` });
    } else {
      try {
        zoneClock(timezone);
      } catch (error) {
        issues.push({ field: 'timezone', message: (error as Error).message });
      }
    }
  }

  if (present(offsetHour)) {
    if (!isWholeIn(offsetHour, 0, 23)) {
      issues.push({ field: 'offsetHour', message: `offsetHour must be a whole number from 0 to 23, got ${describe(offsetHour)}` });
    } else if (offsetHour !== 0 && kind && kind !== 'day' && kind !== 'week') {
      issues.push({ field: 'offsetHour', message: `offsetHour applies only to day and week intervals, not ${kind}` });
    }
  }
  if (present(offsetDay)) {
    if (!isWholeIn(offsetDay, 0, 6)) {
      issues.push({ field: 'offsetDay', message: `offsetDay must be a whole number from 0 (Sunday) to 6 (Saturday), got ${describe(offsetDay)}` });
    } else if (offsetDay !== 0 && kind && kind !== 'week') {
      issues.push({ field: 'offsetDay', message: `offsetDay applies only to week intervals, not ${kind}` });
    }
  }

  const start = checkDate(startAt, 'startAt', issues);
  const end = checkDate(endAt, 'endAt', issues);
  if (start !== undefined && end !== undefined && start >= end) {
    issues.push({ field: 'endAt', message: `endAt (${new Date(end).toISOString()}) must be after startAt (${new Date(start).toISOString()})` });
  }
  return issues;
}

/** The interval containing `instant`. An instant exactly on a boundary belongs to the interval starting there. */
export function intervalContaining(schedule: Schedule, instant: Date): Interval {
  const [start, end] = containing(compile(schedule), ms(instant, 'instant'));
  return toInterval(start, end);
}

/** The interval that starts where `interval` ends. */
export function nextInterval(schedule: Schedule, interval: Interval): Interval {
  const [start, end] = containing(compile(schedule), ms(interval?.end, 'interval.end'));
  return toInterval(start, end);
}

/** The interval that ends where `interval` starts. */
export function previousInterval(schedule: Schedule, interval: Interval): Interval {
  const [start, end] = containing(compile(schedule), ms(interval?.start, 'interval.start') - 1);
  return toInterval(start, end);
}

export interface ClosedIntervalsOptions {
  /** Start from the interval containing this instant (typically the end of the last interval already scheduled). */
  from: Date;
  now: Date;
  /** How long after an interval ends before it is due, so late-arriving rows land first. Default: 0. */
  settleMs?: number;
  /** At most this many intervals, oldest first (catch-up after downtime proceeds over several calls). Default: 1000. */
  limit?: number;
}

/**
 * The intervals due for export, oldest first: from the interval containing `from`, each whose `end + settleMs <= now`,
 * skipping intervals outside the schedule's `[startAt, endAt)` (see the bounds rule above), at most `limit`.
 */
export function closedIntervals(schedule: Schedule, options: ClosedIntervalsOptions): Interval[] {
  const rule = compile(schedule);
  const from = ms(options?.from, 'from');
  const now = ms(options.now, 'now');
  const settleMs = options.settleMs ?? 0;
  const limit = options.limit ?? 1000;
  if (!Number.isFinite(settleMs) || settleMs < 0) throw new RangeError(`settleMs must be a finite number >= 0, got ${describe(settleMs)}`);
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number >= 0, got ${describe(limit)}`);
  const out: Interval[] = [];
  let [start, end] = containing(rule, rule.startAt === undefined ? from : Math.max(from, rule.startAt));
  while (out.length < limit && end + settleMs <= now && (rule.endAt === undefined || start < rule.endAt)) {
    out.push(toInterval(start, end));
    [start, end] = containing(rule, end);
  }
  return out;
}

export interface DueIntervalsOptions {
  /**
   * Where the export's coverage ends: the end of its last scheduled run, whatever schedule that run was cut from.
   * The first interval returned starts exactly here.
   */
  coveredUntil: Date;
  now: Date;
  /** As in `closedIntervals`. Default: 0. */
  settleMs?: number;
  /** As in `closedIntervals`. Default: 1000. */
  limit?: number;
}

/**
 * The intervals due for export after `coveredUntil`, oldest first, tiling time from there with no gap and no
 * overlap. When `coveredUntil` is not a boundary of `schedule` (the schedule changed since the last run: interval,
 * time zone or offset), the first interval is a bridge `[coveredUntil, next boundary)`; the schedule's own grid
 * follows. A `startAt` past `coveredUntil` moves the start to the interval containing `startAt` (never before
 * `coveredUntil`); `endAt` and `settleMs` apply as in `closedIntervals`.
 */
export function dueIntervals(schedule: Schedule, options: DueIntervalsOptions): Interval[] {
  const rule = compile(schedule);
  const coveredUntil = ms(options?.coveredUntil, 'coveredUntil');
  const now = ms(options.now, 'now');
  const settleMs = options.settleMs ?? 0;
  const limit = options.limit ?? 1000;
  if (!Number.isFinite(settleMs) || settleMs < 0) throw new RangeError(`settleMs must be a finite number >= 0, got ${describe(settleMs)}`);
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number >= 0, got ${describe(limit)}`);
  let cursor = coveredUntil;
  if (rule.startAt !== undefined && rule.startAt > cursor) cursor = Math.max(cursor, containing(rule, rule.startAt)[0]);
  const out: Interval[] = [];
  while (out.length < limit) {
    const [start, end] = containing(rule, cursor);
    if (end + settleMs > now || (rule.endAt !== undefined && cursor >= rule.endAt)) break;
    out.push(toInterval(Math.max(start, cursor), end));
    cursor = end;
  }
  return out;
}

/**
 * The intervals a backfill of `[start, end)` runs, oldest first. A range starting or ending mid-interval is widened
 * to whole aligned intervals (a run always covers a full interval, so it replaces exactly what a scheduled run
 * of that interval wrote). Capped by the schedule's `endAt`: no interval starting at or after it. `startAt` does
 * not limit backfills: a backfill is an explicit request for that past range.
 */
export function splitRange(schedule: Schedule, start: Date, end: Date): Interval[] {
  const rule = compile(schedule);
  const [from, until] = backfillRange(rule, start, end);
  const out: Interval[] = [];
  if (from >= until) return out;
  let [s, e] = containing(rule, from);
  while (s < until) {
    out.push(toInterval(s, e));
    [s, e] = containing(rule, e);
  }
  return out;
}

/**
 * `splitRange(schedule, start, end).length`, computed without building the intervals (for estimates and caps).
 * Constant time except for `hour`, which walks the range a UTC day at a time. For `day` and `week` it counts
 * labels (local dates), so a calendar day a zone skipped outright (Pacific/Apia on 2011-12-30) would still count.
 */
export function intervalCount(schedule: Schedule, start: Date, end: Date): number {
  const rule = compile(schedule);
  const [from, until] = backfillRange(rule, start, end);
  if (from >= until) return 0;
  const first = containing(rule, from)[0];
  const last = containing(rule, until - 1)[0];
  if (rule.kind === 'utc') return (last - first) / rule.period + 1;
  const { clock, phase, period } = rule;
  if (!rule.allReadings) {
    // Day/week boundaries are first readings or gap ends, each less than a period past its label.
    return (floorLabel(wallTime(clock, last), phase, period) - floorLabel(wallTime(clock, first), phase, period)) / period + 1;
  }
  let count = 1;
  let cursor = first;
  while (cursor < last) {
    if (cursor + DAY <= last && clock.offsetAt(cursor) === clock.offsetAt(cursor + DAY)) {
      count += DAY / period; // a day of unchanged offset holds exactly 24 hourly boundaries
      cursor += DAY;
    } else {
      cursor = containing(rule, cursor)[1];
      count += 1;
    }
  }
  return count;
}

/**
 * The first interval a new export runs: the one in progress at `createdAt` (it runs once it closes), or, when
 * `startAt` is later, the one containing `startAt`. Intervals before creation are left to backfills. `endAt` is
 * not applied here: when the returned interval starts at or after `endAt`, `closedIntervals` from it yields none.
 */
export function firstInterval(schedule: Schedule, createdAt: Date): Interval {
  const rule = compile(schedule);
  const created = ms(createdAt, 'createdAt');
  const [start, end] = containing(rule, rule.startAt === undefined ? created : Math.max(created, rule.startAt));
  return toInterval(start, end);
}

// ---------------------------------------------------------------------------------------------------------------

/** A schedule reduced to arithmetic. Local boundaries are "labels" `phase + k * period` on the wall-time axis. */
type Rule = ({ kind: 'utc'; period: number } | { kind: 'local'; clock: ZoneClock; period: number; phase: number; allReadings: boolean }) & {
  startAt?: number;
  endAt?: number;
};

function compile(schedule: Schedule): Rule {
  if (!schedule || typeof schedule !== 'object') throw new InvalidScheduleError([{ field: 'interval', message: 'a schedule object is required' }]);
  const { interval, offsetHour, offsetDay } = schedule;
  let clock: ZoneClock;
  try {
    clock = zoneClock(schedule.timezone ?? 'UTC');
  } catch {
    throw new InvalidScheduleError(validateSchedule(schedule));
  }
  const hourOk = !offsetHour || ((interval === 'day' || interval === 'week') && isWholeIn(offsetHour, 0, 23));
  const dayOk = !offsetDay || (interval === 'week' && isWholeIn(offsetDay, 0, 6));
  const startAt = schedule.startAt == null ? undefined : schedule.startAt.getTime?.();
  const endAt = schedule.endAt == null ? undefined : schedule.endAt.getTime?.();
  const boundsOk =
    (schedule.startAt == null || Number.isFinite(startAt)) &&
    (schedule.endAt == null || Number.isFinite(endAt)) &&
    (startAt === undefined || endAt === undefined || startAt < endAt);
  if (!hourOk || !dayOk || !boundsOk) throw new InvalidScheduleError(validateSchedule(schedule));
  const bounds = { startAt, endAt };
  const hour = (offsetHour ?? 0) * HOUR;
  switch (interval) {
    case 'every_5_minutes':
      return { kind: 'utc', period: 5 * MINUTE, ...bounds };
    case 'every_15_minutes':
      return { kind: 'utc', period: 15 * MINUTE, ...bounds };
    case 'hour':
      return { kind: 'local', clock, period: HOUR, phase: 0, allReadings: true, ...bounds };
    case 'day':
      return { kind: 'local', clock, period: DAY, phase: hour, allReadings: false, ...bounds };
    case 'week': {
      // The epoch (1970-01-01) was a Thursday, weekday 4.
      const firstDay = (((offsetDay ?? 0) - 4) % 7 + 7) % 7;
      return { kind: 'local', clock, period: WEEK, phase: firstDay * DAY + hour, allReadings: false, ...bounds };
    }
    default:
      throw new InvalidScheduleError(validateSchedule(schedule));
  }
}

/** `[start, end)` in epoch milliseconds of the interval containing `t`. */
function containing(rule: Rule, t: number): [number, number] {
  const { period } = rule;
  if (rule.kind === 'utc') {
    const start = Math.floor(t / period) * period;
    return [start, start + period];
  }
  const { clock, phase, allReadings } = rule;
  // Fast path: the offset is the same at both labels and at t, so the labels sit at the plain subtraction.
  const offset = clock.offsetAt(t);
  const label = floorLabel(t + offset, phase, period);
  const start = label - offset;
  const end = start + period;
  if (
    clock.offsetAt(start) === offset &&
    clock.offsetAt(end) === offset &&
    // `first occurrence` kinds: no fall-back just before `start` may have shown that label earlier.
    (allReadings || clock.offsetAt(start - DAY) === offset)
  ) {
    return [start, end];
  }
  return containingNearTransition(clock, t, phase, period, allReadings);
}

function containingNearTransition(clock: ZoneClock, t: number, phase: number, period: number, allReadings: boolean): [number, number] {
  const label = floorLabel(wallTime(clock, t), phase, period);
  // Boundaries are monotone in their labels except inside a fall-back overlap longer than a period, which a few
  // labels either side covers; widen the window if the bracketing boundaries are not found.
  for (let reach = 2; reach <= 64; reach *= 2) {
    let start = -Infinity;
    let end = Infinity;
    for (let k = -reach; k <= reach; k++) {
      const wall = label + k * period;
      for (const b of allReadings ? instantsAtWallTime(clock, wall) : [firstInstantAtWallTime(clock, wall)]) {
        if (b <= t) start = Math.max(start, b);
        else end = Math.min(end, b);
      }
    }
    if (Number.isFinite(start) && Number.isFinite(end)) return [start, end];
  }
  throw new Error(`no interval boundary found near ${new Date(t).toISOString()} in ${clock.name}`);
}

function floorLabel(wall: number, phase: number, period: number): number {
  return phase + Math.floor((wall - phase) / period) * period;
}

function backfillRange(rule: Rule, start: Date, end: Date): [number, number] {
  const from = ms(start, 'start');
  const until = ms(end, 'end');
  if (from >= until) throw new RangeError(`backfill start (${start.toISOString()}) must be before end (${end.toISOString()})`);
  return [from, rule.endAt === undefined ? until : Math.min(until, rule.endAt)];
}

function toInterval(start: number, end: number): Interval {
  return { start: new Date(start), end: new Date(end) };
}

function ms(value: unknown, name: string): number {
  const t = value instanceof Date ? value.getTime() : NaN;
  if (!Number.isFinite(t)) throw new TypeError(`${name} must be a valid Date, got ${describe(value)}`);
  return t;
}

function checkDate(value: unknown, field: 'startAt' | 'endAt', issues: ScheduleIssue[]): number | undefined {
  if (value === undefined || value === null) return undefined;
  const t = value instanceof Date ? value.getTime() : NaN;
  if (Number.isFinite(t)) return t;
  issues.push({ field, message: `${field} must be a valid Date, got ${describe(value)}` });
  return undefined;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function isWholeIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function describe(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}
