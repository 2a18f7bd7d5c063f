/**
 * Wall-clock arithmetic for IANA time zones, built on `Intl.DateTimeFormat` (no dependency, tzdata from ICU).
 *
 * Glossary used by the interval math:
 * - instant: milliseconds since the Unix epoch (a UTC point in time).
 * - wall time: what a clock in the zone reads at an instant, encoded as the instant that would read the same on
 *   a UTC clock (`instant + offset`). Wall time is a uniform calendar: adding 24 h of wall time is always "the
 *   same clock time tomorrow", whatever DST does to the instants in between.
 */

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * Offsets are memoised per UTC day when the offset is the same at both ends of the day, else per 15-minute bucket
 * under the same rule. This assumes no zone changes its offset twice within 24 hours, which holds for every tzdb
 * rule in force since 1970 (the data an export can read).
 */
const QUARTER = 15 * 60_000;
/** Memo entries per zone before the memo is dropped and rebuilt (bounds memory for long-running schedulers). */
const MEMO_LIMIT = 50_000;
/** Memo value for a day holding a transition: look in the quarter-hour memo instead. */
const SPLIT = Number.NaN;
/** Every offset ever used lies within +-15 h (LMT included), so the instants with a given wall time lie within this. */
const OFFSET_REACH = 26 * HOUR;

/** A time zone's UTC offset as a function of the instant. */
export interface ZoneClock {
  /** The zone name as resolved by Intl (canonical spelling, e.g. 'Europe/Paris'). */
  readonly name: string;
  /** UTC offset in milliseconds at `instant` (positive east of Greenwich: Paris in winter is +3_600_000). */
  offsetAt(instant: number): number;
}

const UTC_CLOCK: ZoneClock = { name: 'UTC', offsetAt: () => 0 };

class IntlZoneClock implements ZoneClock {
  private readonly days = new Map<number, number>();
  private readonly quarters = new Map<number, number>();

  constructor(
    readonly name: string,
    private readonly format: Intl.DateTimeFormat,
  ) {}

  offsetAt(instant: number): number {
    const day = Math.floor(instant / DAY);
    const known = this.days.get(day);
    if (known !== undefined && known === known) return known; // `known === known` is false for SPLIT (NaN)
    if (known === undefined) {
      const offset = this.constantOver(this.days, day, DAY);
      if (offset !== undefined) return offset;
    }
    return this.constantOver(this.quarters, Math.floor(instant / QUARTER), QUARTER) ?? this.compute(instant);
  }

  /** Memoises bucket `index` of size `size` when the offset is the same at both of its ends; else marks it SPLIT. */
  private constantOver(memo: Map<number, number>, index: number, size: number): number | undefined {
    const known = memo.get(index);
    if (known !== undefined) return known === known ? known : undefined;
    const first = this.compute(index * size);
    const last = this.compute(index * size + size - SECOND);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(index, first === last ? first : SPLIT);
    return first === last ? first : undefined;
  }

  /** Transitions happen on whole seconds and Intl reports whole seconds, so the offset is read at the second. */
  private compute(instant: number): number {
    const second = Math.floor(instant / SECOND) * SECOND;
    let year = 0, month = 0, day = 0, hour = 0, minute = 0, sec = 0, beforeChrist = false;
    for (const part of this.format.formatToParts(second)) {
      switch (part.type) {
        case 'year': year = Number(part.value); break;
        case 'month': month = Number(part.value); break;
        case 'day': day = Number(part.value); break;
        case 'hour': hour = Number(part.value) % 24; break; // some ICU builds print midnight as 24 even with h23
        case 'minute': minute = Number(part.value); break;
        case 'second': sec = Number(part.value); break;
        case 'era': beforeChrist = part.value.startsWith('B'); break;
      }
    }
    if (beforeChrist) year = 1 - year;
    return utcFromFields(year, month, day, hour, minute, sec) - second;
  }
}

function utcFromFields(year: number, month: number, day: number, hour: number, minute: number, sec: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // Date.UTC would read years 0-99 as 1900-1999
  date.setUTCHours(hour, minute, sec, 0);
  return date.getTime();
}

const clocks = new Map<string, ZoneClock>();

/** Names Intl accepts that are not IANA zone names (ECMAScript offset zones such as '+05:30' on newer engines). */
const NOT_IANA = /^[+-]|^$/;

/**
 * The clock for an IANA zone name. Throws a RangeError naming the zone when it is unknown to this runtime's ICU.
 * Clocks (and their Intl formatters) are created once per name and shared.
 */
export function zoneClock(timeZone: string): ZoneClock {
  const cached = clocks.get(timeZone);
  if (cached) return cached;
  if (NOT_IANA.test(timeZone)) throw unknownZone(timeZone);
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US-u-ca-gregory-nu-latn', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw unknownZone(timeZone); // failures are not cached: hostile names must not grow the map
  }
  const name = format.resolvedOptions().timeZone;
  const clock = name === 'UTC' || name === 'Etc/UTC' ? UTC_CLOCK : (clocks.get(name) ?? new IntlZoneClock(name, format));
  clocks.set(name, clock);
  clocks.set(timeZone, clock);
  return clock;
}

/** True when `timeZone` is an IANA zone name this runtime knows. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    zoneClock(timeZone);
    return true;
  } catch {
    return false;
  }
}

function unknownZone(timeZone: string): RangeError {
  const shown = JSON.stringify(timeZone.length > 60 ? `${timeZone.slice(0, 60)}...` : timeZone);
  return new RangeError(`unknown time zone ${shown}; use an IANA name such as "Europe/Paris" or "UTC"`);
}

export function wallTime(clock: ZoneClock, instant: number): number {
  return instant + clock.offsetAt(instant);
}

/**
 * The instants at which the zone's clock reads `wall`, ascending: normally one, two when the clock is set back
 * over it (fall-back), none when the clock skips over it (spring-forward gap).
 */
export function instantsAtWallTime(clock: ZoneClock, wall: number): number[] {
  const before = clock.offsetAt(wall - OFFSET_REACH);
  const after = clock.offsetAt(wall + OFFSET_REACH);
  const found: number[] = [];
  const consider = (candidate: number): void => {
    if (!found.includes(candidate) && wallTime(clock, candidate) === wall) found.push(candidate);
  };
  consider(wall - before);
  consider(wall - after);
  if (found.length === 0) {
    // Offsets that changed twice within the probe window: also try the offsets next to the candidates.
    consider(wall - clock.offsetAt(wall - before));
    consider(wall - clock.offsetAt(wall - after));
  }
  return found.sort((a, b) => a - b);
}

/**
 * The first instant at which the zone's clock reads `wall`, or, when the clock skips over `wall`, the first
 * instant after the skipped stretch (the instant of the jump, whose wall time is past `wall`).
 */
export function firstInstantAtWallTime(clock: ZoneClock, wall: number): number {
  const found = instantsAtWallTime(clock, wall);
  if (found.length > 0) return found[0];
  const before = clock.offsetAt(wall - OFFSET_REACH);
  const after = clock.offsetAt(wall + OFFSET_REACH);
  return gapEnd(clock, wall, wall - Math.max(before, after), wall - Math.min(before, after));
}

/** The first whole second whose wall time is past `wall`; `low`/`high` are hints, widened when they do not bracket. */
function gapEnd(clock: ZoneClock, wall: number, low: number, high: number): number {
  let lo = Math.floor(low / SECOND) * SECOND;
  let hi = Math.ceil(high / SECOND) * SECOND;
  if (wallTime(clock, lo) > wall) lo = Math.floor((wall - OFFSET_REACH) / SECOND) * SECOND;
  if (wallTime(clock, hi) <= wall) hi = Math.ceil((wall + OFFSET_REACH) / SECOND) * SECOND;
  while (hi - lo > SECOND) {
    const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
    if (wallTime(clock, mid) > wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

export const DURATIONS = { SECOND, HOUR, DAY } as const;
