import {
  closedIntervals,
  dueIntervals,
  firstInterval,
  INTERVAL_KINDS,
  intervalContaining,
  intervalCount,
  InvalidScheduleError,
  nextInterval,
  previousInterval,
  splitRange,
  validateSchedule,
  type Interval,
  type IntervalKind,
  type Schedule,
} from '../../src/scheduler/intervals';

// Expected instants are written as local times with their offset ('2024-03-31T03:00+02:00'): the offset is the
// fact under test, checked against tzdata by hand (see the table comments), not computed by the module.
const at = (iso: string): Date => new Date(iso);
const MIN = 60_000;
const H = 3_600_000;
const D = 24 * H;

function sched(interval: IntervalKind, timezone = 'UTC', extra: Partial<Schedule> = {}): Schedule {
  return { interval, timezone, ...extra };
}

function iso(interval: Interval): [string, string] {
  return [interval.start.toISOString(), interval.end.toISOString()];
}

function expectInterval(actual: Interval, start: string, end: string): void {
  expect(iso(actual)).toEqual([at(start).toISOString(), at(end).toISOString()]);
}

/** What a clock in `zone` reads at `instant`: [year, month, day, hour, minute, second, weekday 0=Sunday]. */
function wallClock(zone: string, instant: number): number[] {
  const parts = wallFormat(zone).formatToParts(instant);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return [+get('year'), +get('month'), +get('day'), +get('hour') % 24, +get('minute'), +get('second'), weekday];
}
const wallFormats = new Map<string, Intl.DateTimeFormat>();
function wallFormat(zone: string): Intl.DateTimeFormat {
  let f = wallFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', weekday: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    wallFormats.set(zone, f);
  }
  return f;
}

/** Small seeded PRNG so the property tests are reproducible. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('INTERVAL_KINDS', () => {
  it('lists the five kinds', () => {
    expect([...INTERVAL_KINDS]).toEqual(['every_5_minutes', 'every_15_minutes', 'hour', 'day', 'week']);
  });
});

describe('intervalContaining: alignment of each kind', () => {
  const cases: [string, Schedule, string, string, string][] = [
    ['5 minutes, mid-interval', sched('every_5_minutes'), '2024-05-05T10:07:31.250Z', '2024-05-05T10:05Z', '2024-05-05T10:10Z'],
    ['5 minutes, last millisecond', sched('every_5_minutes'), '2024-05-05T10:09:59.999Z', '2024-05-05T10:05Z', '2024-05-05T10:10Z'],
    ['5 minutes, exactly on a boundary', sched('every_5_minutes'), '2024-05-05T10:10Z', '2024-05-05T10:10Z', '2024-05-05T10:15Z'],
    ['5 minutes, midnight rollover', sched('every_5_minutes'), '2024-12-31T23:58Z', '2024-12-31T23:55Z', '2025-01-01T00:00Z'],
    ['5 minutes, before the epoch', sched('every_5_minutes'), '1969-12-31T23:59:59Z', '1969-12-31T23:55Z', '1970-01-01T00:00Z'],
    ['15 minutes, mid-interval', sched('every_15_minutes'), '2024-05-05T10:07Z', '2024-05-05T10:00Z', '2024-05-05T10:15Z'],
    ['15 minutes, exactly on a boundary', sched('every_15_minutes'), '2024-05-05T10:45Z', '2024-05-05T10:45Z', '2024-05-05T11:00Z'],
    // +5:45: UTC quarter hours are Kathmandu quarter hours too (10:07Z is 15:52 local, in 15:45-16:00).
    ['15 minutes in Kathmandu (UTC-aligned)', sched('every_15_minutes', 'Asia/Kathmandu'), '2024-05-05T10:07Z', '2024-05-05T15:45+05:45', '2024-05-05T16:00+05:45'],
    ['5 minutes in Chatham across DST start', sched('every_5_minutes', 'Pacific/Chatham'), '2024-09-28T14:02Z', '2024-09-28T14:00Z', '2024-09-28T14:05Z'],
    ['hour UTC', sched('hour'), '2024-05-05T10:59:59.999Z', '2024-05-05T10:00Z', '2024-05-05T11:00Z'],
    ['hour UTC on a boundary', sched('hour'), '2024-05-05T11:00Z', '2024-05-05T11:00Z', '2024-05-05T12:00Z'],
    ['hour Kolkata (+5:30) is local hours', sched('hour', 'Asia/Kolkata'), '2024-01-01T00:10Z', '2024-01-01T05:00+05:30', '2024-01-01T06:00+05:30'],
    ['hour Kathmandu (+5:45)', sched('hour', 'Asia/Kathmandu'), '2024-01-01T00:10Z', '2024-01-01T05:00+05:45', '2024-01-01T06:00+05:45'],
    ['hour Chatham (+13:45)', sched('hour', 'Pacific/Chatham'), '2024-01-01T00:10Z', '2024-01-01T13:00+13:45', '2024-01-01T14:00+13:45'],
    ['day UTC', sched('day'), '2024-05-05T10:00Z', '2024-05-05T00:00Z', '2024-05-06T00:00Z'],
    ['day UTC on a boundary', sched('day'), '2024-05-06T00:00Z', '2024-05-06T00:00Z', '2024-05-07T00:00Z'],
    ['day UTC at 06:00, before the offset', sched('day', 'UTC', { offsetHour: 6 }), '2024-05-05T05:59Z', '2024-05-04T06:00Z', '2024-05-05T06:00Z'],
    ['day Kolkata', sched('day', 'Asia/Kolkata'), '2024-01-01T20:00Z', '2024-01-02T00:00+05:30', '2024-01-03T00:00+05:30'],
    ['day Kathmandu at 23:00', sched('day', 'Asia/Kathmandu', { offsetHour: 23 }), '2024-01-01T12:00Z', '2023-12-31T23:00+05:45', '2024-01-01T23:00+05:45'],
    ['day Paris at 01:00 (winter)', sched('day', 'Europe/Paris', { offsetHour: 1 }), '2024-01-10T12:00Z', '2024-01-10T01:00+01:00', '2024-01-11T01:00+01:00'],
    // 2024-05-05 is a Sunday.
    ['week UTC, default Sunday 00:00', sched('week'), '2024-05-08T12:00Z', '2024-05-05T00:00Z', '2024-05-12T00:00Z'],
    ['week UTC, on the boundary', sched('week'), '2024-05-12T00:00Z', '2024-05-12T00:00Z', '2024-05-19T00:00Z'],
    ['week UTC, Saturday 23:00', sched('week', 'UTC', { offsetDay: 6, offsetHour: 23 }), '2024-05-11T22:59Z', '2024-05-04T23:00Z', '2024-05-11T23:00Z'],
    ['week New York, Monday 09:00', sched('week', 'America/New_York', { offsetDay: 1, offsetHour: 9 }), '2024-06-05T00:00Z', '2024-06-03T09:00-04:00', '2024-06-10T09:00-04:00'],
    ['week New York, just before Monday 09:00', sched('week', 'America/New_York', { offsetDay: 1, offsetHour: 9 }), '2024-06-10T12:59:59.999Z', '2024-06-03T09:00-04:00', '2024-06-10T09:00-04:00'],
    ['week Kolkata, Wednesday', sched('week', 'Asia/Kolkata', { offsetDay: 3 }), '2024-05-05T00:00Z', '2024-05-01T00:00+05:30', '2024-05-08T00:00+05:30'],
  ];
  it.each(cases)('%s', (_name, schedule, instant, start, end) => {
    expectInterval(intervalContaining(schedule, at(instant)), start, end);
  });
});

describe('intervalContaining across DST transitions', () => {
  // Transitions (tzdata 2024): Paris 2024-03-31 01:00Z (+1 -> +2) and 2024-10-27 01:00Z (+2 -> +1);
  // New York 2024-03-10 07:00Z (-5 -> -4) and 2024-11-03 06:00Z (-4 -> -5);
  // Lord Howe 2024-04-06 15:00Z (+11 -> +10:30, clock 02:00 -> 01:30) and 2024-10-05 15:30Z (+10:30 -> +11, 02:00 -> 02:30);
  // Chatham 2024-04-06 14:00Z (+13:45 -> +12:45, clock 03:45 -> 02:45) and 2024-09-28 14:00Z (+12:45 -> +13:45, 02:45 -> 03:45).
  const cases: [string, Schedule, string, string, string, number][] = [
    // [name, schedule, instant inside, expected start, expected end, expected hours]
    ['Paris day, spring (23 h)', sched('day', 'Europe/Paris'), '2024-03-31T12:00Z', '2024-03-31T00:00+01:00', '2024-04-01T00:00+02:00', 23],
    ['Paris day, autumn (25 h)', sched('day', 'Europe/Paris'), '2024-10-27T12:00Z', '2024-10-27T00:00+02:00', '2024-10-28T00:00+01:00', 25],
    ['Paris day at 01:00, spring', sched('day', 'Europe/Paris', { offsetHour: 1 }), '2024-03-31T12:00Z', '2024-03-31T01:00+01:00', '2024-04-01T01:00+02:00', 23],
    ['Paris day at 01:00, autumn', sched('day', 'Europe/Paris', { offsetHour: 1 }), '2024-10-27T12:00Z', '2024-10-27T01:00+02:00', '2024-10-28T01:00+01:00', 25],
    ['Paris day at 02:00, the day before the gap', sched('day', 'Europe/Paris', { offsetHour: 2 }), '2024-03-30T12:00Z', '2024-03-30T02:00+01:00', '2024-03-31T03:00+02:00', 24],
    ['Paris day at 02:00, starts after the gap', sched('day', 'Europe/Paris', { offsetHour: 2 }), '2024-03-31T12:00Z', '2024-03-31T03:00+02:00', '2024-04-01T02:00+02:00', 23],
    ['Paris day at 02:00, ambiguous: first 02:00', sched('day', 'Europe/Paris', { offsetHour: 2 }), '2024-10-27T00:30Z', '2024-10-27T02:00+02:00', '2024-10-28T02:00+01:00', 25],
    ['Paris day at 02:00, second 02:30 is in the new day', sched('day', 'Europe/Paris', { offsetHour: 2 }), '2024-10-27T01:30Z', '2024-10-27T02:00+02:00', '2024-10-28T02:00+01:00', 25],
    ['Paris day at 02:00, just before the first 02:00', sched('day', 'Europe/Paris', { offsetHour: 2 }), '2024-10-26T23:59:59Z', '2024-10-26T02:00+02:00', '2024-10-27T02:00+02:00', 24],
    ['Paris hour, first 02:00-03:00', sched('hour', 'Europe/Paris'), '2024-10-27T00:30Z', '2024-10-27T02:00+02:00', '2024-10-27T03:00+02:00', 1],
    ['Paris hour, repeated 02:00-03:00', sched('hour', 'Europe/Paris'), '2024-10-27T01:30Z', '2024-10-27T02:00+01:00', '2024-10-27T03:00+01:00', 1],
    ['Paris hour, spring 01:00-03:00 local is one hour', sched('hour', 'Europe/Paris'), '2024-03-31T00:30Z', '2024-03-31T01:00+01:00', '2024-03-31T03:00+02:00', 1],
    ['New York day, spring (23 h)', sched('day', 'America/New_York'), '2024-03-10T12:00Z', '2024-03-10T00:00-05:00', '2024-03-11T00:00-04:00', 23],
    ['New York day, autumn (25 h)', sched('day', 'America/New_York'), '2024-11-03T12:00Z', '2024-11-03T00:00-04:00', '2024-11-04T00:00-05:00', 25],
    ['New York day at 02:00, nonexistent: 03:00 EDT', sched('day', 'America/New_York', { offsetHour: 2 }), '2024-03-10T12:00Z', '2024-03-10T03:00-04:00', '2024-03-11T02:00-04:00', 23],
    ['New York day at 01:00, second 01:30 EST', sched('day', 'America/New_York', { offsetHour: 1 }), '2024-11-03T06:30Z', '2024-11-03T01:00-04:00', '2024-11-04T01:00-05:00', 25],
    ['New York week Monday 09:00, spring (167 h)', sched('week', 'America/New_York', { offsetDay: 1, offsetHour: 9 }), '2024-03-08T00:00Z', '2024-03-04T09:00-05:00', '2024-03-11T09:00-04:00', 167],
    ['New York week Monday 09:00, autumn (169 h)', sched('week', 'America/New_York', { offsetDay: 1, offsetHour: 9 }), '2024-11-01T00:00Z', '2024-10-28T09:00-04:00', '2024-11-04T09:00-05:00', 169],
    ['Paris week Sunday 00:00, ends just before the spring shift (168 h)', sched('week', 'Europe/Paris'), '2024-03-30T00:00Z', '2024-03-24T00:00+01:00', '2024-03-31T00:00+01:00', 168],
    ['Paris week Sunday 03:00, spans spring (167 h)', sched('week', 'Europe/Paris', { offsetHour: 3 }), '2024-03-30T00:00Z', '2024-03-24T03:00+01:00', '2024-03-31T03:00+02:00', 167],
    ['Paris week Sunday 03:00, spans autumn (169 h)', sched('week', 'Europe/Paris', { offsetHour: 3 }), '2024-10-25T00:00Z', '2024-10-20T03:00+02:00', '2024-10-27T03:00+01:00', 169],
    ['Lord Howe day, spring (23.5 h)', sched('day', 'Australia/Lord_Howe'), '2024-10-06T00:00Z', '2024-10-06T00:00+10:30', '2024-10-07T00:00+11:00', 23.5],
    ['Lord Howe day, autumn (24.5 h)', sched('day', 'Australia/Lord_Howe'), '2024-04-07T00:00Z', '2024-04-07T00:00+11:00', '2024-04-08T00:00+10:30', 24.5],
    ['Lord Howe day at 02:00, nonexistent: 02:30', sched('day', 'Australia/Lord_Howe', { offsetHour: 2 }), '2024-10-06T00:00Z', '2024-10-06T02:30+11:00', '2024-10-07T02:00+11:00', 23.5],
    ['Lord Howe day at 02:00, the day before the gap', sched('day', 'Australia/Lord_Howe', { offsetHour: 2 }), '2024-10-05T12:00Z', '2024-10-05T02:00+10:30', '2024-10-06T02:30+11:00', 24],
    ['Lord Howe hour across spring (90 min)', sched('hour', 'Australia/Lord_Howe'), '2024-10-05T15:40Z', '2024-10-06T01:00+10:30', '2024-10-06T03:00+11:00', 1.5],
    ['Lord Howe hour across autumn (90 min)', sched('hour', 'Australia/Lord_Howe'), '2024-04-06T15:10Z', '2024-04-07T01:00+11:00', '2024-04-07T02:00+10:30', 1.5],
    ['Lord Howe hour after autumn', sched('hour', 'Australia/Lord_Howe'), '2024-04-06T15:30Z', '2024-04-07T02:00+10:30', '2024-04-07T03:00+10:30', 1],
    ['Chatham day, spring (23 h)', sched('day', 'Pacific/Chatham'), '2024-09-29T00:00Z', '2024-09-29T00:00+12:45', '2024-09-30T00:00+13:45', 23],
    ['Chatham day, autumn (25 h)', sched('day', 'Pacific/Chatham'), '2024-04-07T00:00Z', '2024-04-07T00:00+13:45', '2024-04-08T00:00+12:45', 25],
    ['Chatham day at 03:00, nonexistent: 03:45', sched('day', 'Pacific/Chatham', { offsetHour: 3 }), '2024-09-29T00:00Z', '2024-09-29T03:45+13:45', '2024-09-30T03:00+13:45', 23.25],
    ['Chatham day at 03:00, the day before the gap', sched('day', 'Pacific/Chatham', { offsetHour: 3 }), '2024-09-28T00:00Z', '2024-09-28T03:00+12:45', '2024-09-29T03:45+13:45', 23.75],
    // 03:00 falls strictly inside the repeated 02:45-03:45: the second pass at 02:50 is after the first 03:00.
    ['Chatham day at 03:00, second-pass 02:50 belongs to the new day', sched('day', 'Pacific/Chatham', { offsetHour: 3 }), '2024-04-06T14:05Z', '2024-04-07T03:00+13:45', '2024-04-08T03:00+12:45', 25],
    ['Chatham day at 03:00, first-pass 02:50 is the old day', sched('day', 'Pacific/Chatham', { offsetHour: 3 }), '2024-04-06T13:05Z', '2024-04-06T03:00+13:45', '2024-04-07T03:00+13:45', 24],
    ['Chatham hour across spring', sched('hour', 'Pacific/Chatham'), '2024-09-28T14:05Z', '2024-09-29T02:00+12:45', '2024-09-29T04:00+13:45', 1],
    ['Chatham hour, repeated 03:00 (second)', sched('hour', 'Pacific/Chatham'), '2024-04-06T14:30Z', '2024-04-07T03:00+12:45', '2024-04-07T04:00+12:45', 1],
    ['Chatham hour, 02:00 to first 03:00', sched('hour', 'Pacific/Chatham'), '2024-04-06T13:00Z', '2024-04-07T02:00+13:45', '2024-04-07T03:00+13:45', 1],
  ];
  it.each(cases)('%s', (_name, schedule, instant, start, end, hours) => {
    const interval = intervalContaining(schedule, at(instant));
    expectInterval(interval, start, end);
    expect((interval.end.getTime() - interval.start.getTime()) / H).toBe(hours);
  });

  it('Kolkata and Kathmandu have no DST: every 2024 day is 24 h at local midnight', () => {
    for (const zone of ['Asia/Kolkata', 'Asia/Kathmandu']) {
      const s = sched('day', zone);
      let interval = intervalContaining(s, at('2024-01-01T12:00Z'));
      for (let i = 0; i < 366; i++) {
        expect(interval.end.getTime() - interval.start.getTime()).toBe(D);
        expect(wallClock(zone, interval.start.getTime()).slice(3, 6)).toEqual([0, 0, 0]);
        interval = nextInterval(s, interval);
      }
    }
  });
});

describe('nextInterval / previousInterval', () => {
  const cases: [string, Schedule, string, string, string][] = [
    ['5 minutes', sched('every_5_minutes'), '2024-05-05T10:07Z', '2024-05-05T10:10Z', '2024-05-05T10:15Z'],
    ['hour', sched('hour', 'Asia/Kolkata'), '2024-05-05T10:07Z', '2024-05-05T16:00+05:30', '2024-05-05T17:00+05:30'],
    ['day into the Paris 23 h day', sched('day', 'Europe/Paris'), '2024-03-30T12:00Z', '2024-03-31T00:00+01:00', '2024-04-01T00:00+02:00'],
    ['week into New York 169 h', sched('week', 'America/New_York', { offsetDay: 1, offsetHour: 9 }), '2024-10-25T12:00Z', '2024-10-28T09:00-04:00', '2024-11-04T09:00-05:00'],
  ];
  it.each(cases)('%s: next then previous round-trips', (_name, schedule, instant, nextStart, nextEnd) => {
    const current = intervalContaining(schedule, at(instant));
    const next = nextInterval(schedule, current);
    expectInterval(next, nextStart, nextEnd);
    expect(iso(previousInterval(schedule, next))).toEqual(iso(current));
  });

  it('does not mutate its arguments and returns fresh Dates', () => {
    const schedule = sched('day', 'Europe/Paris', { startAt: at('2024-01-01T00:00Z'), endAt: at('2025-01-01T00:00Z') });
    const start = at('2024-03-30T23:00Z');
    const end = at('2024-03-31T22:00Z');
    const interval = { start, end };
    const next = nextInterval(schedule, interval);
    const previous = previousInterval(schedule, interval);
    const containing = intervalContaining(schedule, start);
    expect([start.toISOString(), end.toISOString()]).toEqual(['2024-03-30T23:00:00.000Z', '2024-03-31T22:00:00.000Z']);
    expect(schedule.startAt!.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    for (const result of [next, previous, containing]) {
      expect(result.start).not.toBe(start);
      expect(result.end).not.toBe(end);
    }
    expect(iso(containing)).toEqual(iso(interval));
  });
});

describe('tiling property: random instants over two years', () => {
  const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/Santiago'];
  const from = Date.parse('2023-01-01T00:00Z');
  const to = Date.parse('2025-01-01T00:00Z');
  const schedules: Schedule[] = [];
  for (const zone of zones) {
    schedules.push(
      sched('every_5_minutes', zone),
      sched('every_15_minutes', zone),
      sched('hour', zone),
      sched('day', zone),
      sched('day', zone, { offsetHour: 2 }),
      sched('day', zone, { offsetHour: 3 }),
      sched('week', zone, { offsetDay: 1, offsetHour: 9 }),
      sched('week', zone, { offsetDay: 0, offsetHour: 2 }),
    );
  }

  it.each(schedules.map((s) => [`${s.interval} ${s.timezone} h${s.offsetHour ?? 0} d${s.offsetDay ?? 0}`, s] as const))(
    '%s: intervals contain their instant, abut their neighbours, and start where the local clock says',
    (_name, schedule) => {
      const random = mulberry32(0x5eed ^ schedule.timezone.length ^ (schedule.offsetHour ?? 0));
      const problems: string[] = [];
      const check = (ok: boolean, what: string, t: number) => {
        if (!ok) problems.push(`${what} at ${new Date(t).toISOString()}`);
      };
      for (let i = 0; i < 200; i++) {
        const t = from + Math.floor(random() * (to - from));
        const interval = intervalContaining(schedule, new Date(t));
        const start = interval.start.getTime();
        const end = interval.end.getTime();
        check(start <= t && t < end, 'instant outside its interval', t);
        check(nextInterval(schedule, interval).start.getTime() === end, 'next does not start at end', t);
        check(previousInterval(schedule, interval).end.getTime() === start, 'previous does not end at start', t);
        // Every instant of the interval maps back to it: exactly one interval contains each instant.
        for (const probe of [start, end - 1, start + Math.floor(random() * (end - start))]) {
          const back = intervalContaining(schedule, new Date(probe));
          check(back.start.getTime() === start && back.end.getTime() === end, 'a member instant maps elsewhere', probe);
        }
        check(intervalContaining(schedule, new Date(end)).start.getTime() === end, 'the end belongs to the next interval', t);
        const misaligned = misalignment(schedule, start);
        if (misaligned) problems.push(misaligned);
      }
      expect(problems).toEqual([]);
    },
  );

  /** A boundary reads the configured local time, or it is the first instant after a gap that skipped it. */
  function misalignment(schedule: Schedule, boundary: number): string | undefined {
    const [, , , hour, minute, second, weekday] = wallClock(schedule.timezone, boundary);
    const utc = new Date(boundary);
    const fail = (what: string) => `${what}: ${utc.toISOString()} reads ${hour}:${minute}:${second} day ${weekday} in ${schedule.timezone}`;
    switch (schedule.interval) {
      case 'every_5_minutes':
        return boundary % (5 * MIN) === 0 ? undefined : fail('not on a UTC 5-minute mark');
      case 'every_15_minutes':
        if (boundary % (15 * MIN) !== 0) return fail('not on a UTC quarter hour');
        return minute % 15 === 0 && second === 0 ? undefined : fail('not on a local quarter hour'); // true for every zone tested
      case 'hour':
        return minute === 0 && second === 0 ? undefined : fail('not on a local hour');
      default: {
        const wantHour = schedule.offsetHour ?? 0;
        const wantDay = schedule.interval === 'week' ? (schedule.offsetDay ?? 0) : weekday;
        if (hour === wantHour && minute === 0 && second === 0 && weekday === wantDay) return undefined;
        // Otherwise the clock must have jumped over the configured time right at this boundary.
        const before = wallClock(schedule.timezone, boundary - 1000);
        const skipped = before[3] < wantHour || before[6] !== weekday; // a second earlier it read an earlier time
        const jumpedForward = offsetJump(schedule.timezone, boundary) > 0; // and the clock jumped right here
        return skipped && jumpedForward ? undefined : fail('not at the configured local time nor after a gap');
      }
    }
  }

  function offsetJump(zone: string, instant: number): number {
    const offset = (t: number) => {
      const [y, mo, d, h, mi, s] = wallClock(zone, t);
      return Date.UTC(y, mo - 1, d, h, mi, s) - t;
    };
    return offset(instant) - offset(instant - 1000);
  }

  // Walking the chain from 2023-01-01 to 2025-01-01 and counting durations pins down every transition.
  const walks: [string, Schedule, Record<string, number>][] = [
    ['hour Europe/Paris: always 1 h', sched('hour', 'Europe/Paris'), { 1: 17544 }],
    ['hour Pacific/Chatham: always 1 h', sched('hour', 'Pacific/Chatham'), { 1: 17544 }],
    ['hour Asia/Kathmandu: always 1 h', sched('hour', 'Asia/Kathmandu'), { 1: 17544 }],
    // Four transitions in two years, each swallowing a 30-minute step into a 90-minute interval.
    ['hour Australia/Lord_Howe: 90 min at each shift', sched('hour', 'Australia/Lord_Howe'), { 1: 17538, 1.5: 4 }],
    ['day Europe/Paris: two 23 h and two 25 h days', sched('day', 'Europe/Paris'), { 23: 2, 24: 727, 25: 2 }],
    ['day America/New_York at 02:00', sched('day', 'America/New_York', { offsetHour: 2 }), { 23: 2, 24: 727, 25: 2 }],
    ['day Australia/Lord_Howe', sched('day', 'Australia/Lord_Howe'), { 23.5: 2, 24: 727, 24.5: 2 }],
    ['day Pacific/Chatham at 03:00', sched('day', 'Pacific/Chatham', { offsetHour: 3 }), { 23.25: 2, 23.75: 2, 24: 725, 25: 2 }],
    ['day Asia/Kolkata', sched('day', 'Asia/Kolkata'), { 24: 731 }],
    ['week America/New_York Monday 09:00', sched('week', 'America/New_York', { offsetDay: 1, offsetHour: 9 }), { 167: 2, 168: 101, 169: 2 }],
  ];
  it.each(walks)('%s', (_name, schedule, expected) => {
    let interval = intervalContaining(schedule, new Date(from));
    const durations: Record<string, number> = {};
    const gaps: string[] = [];
    const first = interval.start.getTime();
    let last = interval;
    while (interval.end.getTime() <= to) {
      const hours = (interval.end.getTime() - interval.start.getTime()) / H;
      durations[hours] = (durations[hours] ?? 0) + 1;
      const next = nextInterval(schedule, interval);
      if (next.start.getTime() !== interval.end.getTime()) gaps.push(interval.end.toISOString());
      if (next.end.getTime() <= interval.end.getTime()) break; // not advancing: fail rather than loop forever
      last = interval;
      interval = next;
    }
    expect(gaps).toEqual([]);
    expect(durations).toEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [String(Number(k)), v])));
    expect(intervalCount(schedule, new Date(first), last.end)).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
  });
});

describe('validateSchedule', () => {
  const cases: [string, Record<string, unknown>, { field: string; message: RegExp }[]][] = [
    ['a valid daily schedule', { interval: 'day', timezone: 'Europe/Paris', offsetHour: 1 }, []],
    ['a valid weekly schedule', { interval: 'week', timezone: 'America/New_York', offsetDay: 1, offsetHour: 9 }, []],
    ['timezone omitted means UTC', { interval: 'hour' }, []],
    ['zero offsets on an hourly schedule (stored defaults)', { interval: 'hour', timezone: 'UTC', offsetHour: 0, offsetDay: 0 }, []],
    ['missing interval', { timezone: 'UTC' }, [{ field: 'interval', message: /interval is required; expected one of every_5_minutes, every_15_minutes, hour, day, week/ }]],
    ['unknown interval', { interval: 'fortnight', timezone: 'UTC' }, [{ field: 'interval', message: /unknown interval "fortnight"; expected one of/ }]],
    ['unknown timezone', { interval: 'day', timezone: 'Mars/Olympus_Mons' }, [{ field: 'timezone', message: /unknown time zone "Mars\/Olympus_Mons"; use an IANA name/ }]],
    ['offset time zone', { interval: 'day', timezone: '+05:30' }, [{ field: 'timezone', message: /unknown time zone "\+05:30"/ }]],
    ['empty timezone', { interval: 'day', timezone: '' }, [{ field: 'timezone', message: /unknown time zone ""/ }]],
    ['NUL in timezone', { interval: 'day', timezone: 'Europe/Paris\u0000' }, [{ field: 'timezone', message: /unknown time zone "Europe\/Paris\\u0000"/ }]],
    ['emoji timezone', { interval: 'day', timezone: '🕰️/Zone' }, [{ field: 'timezone', message: /unknown time zone "🕰️\/Zone"/ }]],
    ['huge timezone is truncated in the message', { interval: 'day', timezone: 'A'.repeat(10_000) }, [{ field: 'timezone', message: /^unknown time zone "A{60}\.\.\."; / }]],
    ['non-string timezone', { interval: 'day', timezone: 5 }, [{ field: 'timezone', message: /timezone must be an IANA time zone name, got 5/ }]],
    ['offsetHour 24', { interval: 'day', timezone: 'UTC', offsetHour: 24 }, [{ field: 'offsetHour', message: /offsetHour must be a whole number from 0 to 23, got 24/ }]],
    ['offsetHour -1', { interval: 'week', timezone: 'UTC', offsetHour: -1 }, [{ field: 'offsetHour', message: /from 0 to 23, got -1/ }]],
    ['offsetHour 1.5', { interval: 'day', timezone: 'UTC', offsetHour: 1.5 }, [{ field: 'offsetHour', message: /whole number from 0 to 23, got 1.5/ }]],
    ['offsetHour as a string', { interval: 'day', timezone: 'UTC', offsetHour: '3' }, [{ field: 'offsetHour', message: /got "3"/ }]],
    ['offsetHour NaN', { interval: 'day', timezone: 'UTC', offsetHour: NaN }, [{ field: 'offsetHour', message: /got NaN/ }]],
    ['offsetHour on an hourly schedule', { interval: 'hour', timezone: 'UTC', offsetHour: 3 }, [{ field: 'offsetHour', message: /offsetHour applies only to day and week intervals, not hour/ }]],
    ['offsetHour on a 5-minute schedule', { interval: 'every_5_minutes', timezone: 'UTC', offsetHour: 3 }, [{ field: 'offsetHour', message: /not every_5_minutes/ }]],
    ['offsetDay 7', { interval: 'week', timezone: 'UTC', offsetDay: 7 }, [{ field: 'offsetDay', message: /offsetDay must be a whole number from 0 \(Sunday\) to 6 \(Saturday\), got 7/ }]],
    ['offsetDay on a daily schedule', { interval: 'day', timezone: 'UTC', offsetDay: 1 }, [{ field: 'offsetDay', message: /offsetDay applies only to week intervals, not day/ }]],
    ['startAt equal to endAt', { interval: 'day', timezone: 'UTC', startAt: at('2024-01-01T00:00Z'), endAt: at('2024-01-01T00:00Z') }, [{ field: 'endAt', message: /endAt \(2024-01-01T00:00:00.000Z\) must be after startAt \(2024-01-01T00:00:00.000Z\)/ }]],
    ['startAt after endAt', { interval: 'day', timezone: 'UTC', startAt: at('2024-02-01T00:00Z'), endAt: at('2024-01-01T00:00Z') }, [{ field: 'endAt', message: /must be after startAt/ }]],
    ['invalid startAt Date', { interval: 'day', timezone: 'UTC', startAt: new Date('nope') }, [{ field: 'startAt', message: /startAt must be a valid Date, got Invalid Date/ }]],
    ['endAt as a string', { interval: 'day', timezone: 'UTC', endAt: '2024-01-01' }, [{ field: 'endAt', message: /endAt must be a valid Date, got "2024-01-01"/ }]],
    [
      'every problem at once',
      { interval: 'day', timezone: 'Nowhere', offsetHour: 99, offsetDay: 2, startAt: at('2024-02-01T00:00Z'), endAt: at('2024-01-01T00:00Z') },
      [
        { field: 'timezone', message: /Nowhere/ },
        { field: 'offsetHour', message: /99/ },
        { field: 'offsetDay', message: /only to week/ },
        { field: 'endAt', message: /after startAt/ },
      ],
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    const issues = validateSchedule(input);
    expect(issues.map((i) => i.field)).toEqual(expected.map((e) => e.field));
    issues.forEach((issue, i) => expect(issue.message).toMatch(expected[i].message));
  });

  it('accepts zone names case-insensitively, as Intl does', () => {
    expect(validateSchedule({ interval: 'day', timezone: 'europe/paris' })).toEqual([]);
    expectInterval(intervalContaining(sched('day', 'europe/paris'), at('2024-03-31T12:00Z')), '2024-03-31T00:00+01:00', '2024-04-01T00:00+02:00');
  });

  it('the interval functions throw InvalidScheduleError listing the issues', () => {
    const bad = { interval: 'day', timezone: 'Nowhere/Land', offsetHour: 25 } as unknown as Schedule;
    let thrown: unknown;
    try {
      intervalContaining(bad, at('2024-01-01T00:00Z'));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidScheduleError);
    expect((thrown as InvalidScheduleError).issues.map((i) => i.field)).toEqual(['timezone', 'offsetHour']);
    expect((thrown as Error).message).toMatch(/^invalid schedule: timezone: unknown time zone "Nowhere\/Land".*; offsetHour: .*got 25$/);
    expect(() => intervalContaining({ interval: 'monthly' } as unknown as Schedule, at('2024-01-01T00:00Z'))).toThrow(/interval: unknown interval "monthly"/);
    expect(() => intervalContaining(sched('hour', 'UTC', { offsetHour: 2 }), at('2024-01-01T00:00Z'))).toThrow(/offsetHour applies only to day and week/);
    expect(() => splitRange(sched('day', 'UTC', { startAt: at('2024-02-01T00:00Z'), endAt: at('2024-01-01T00:00Z') }), at('2024-01-01T00:00Z'), at('2024-01-02T00:00Z'))).toThrow(/endAt .* must be after startAt/);
  });

  it('rejects invalid instants with a TypeError naming the argument', () => {
    expect(() => intervalContaining(sched('day'), new Date(NaN))).toThrow(new TypeError('instant must be a valid Date, got Invalid Date'));
    expect(() => intervalContaining(sched('day'), '2024-01-01' as unknown as Date)).toThrow(/instant must be a valid Date, got "2024-01-01"/);
    expect(() => closedIntervals(sched('day'), { from: at('2024-01-01T00:00Z'), now: undefined as unknown as Date })).toThrow(/now must be a valid Date, got undefined/);
    expect(() => nextInterval(sched('day'), { start: at('2024-01-01T00:00Z') } as Interval)).toThrow(/interval.end must be a valid Date/);
  });
});

describe('closedIntervals', () => {
  const hourly = sched('hour');
  const list = (intervals: Interval[]) => intervals.map((i) => `${i.start.toISOString().slice(11, 16)}-${i.end.toISOString().slice(11, 16)}`);

  it('returns each interval whose end plus the settle delay has passed, from the interval containing `from`', () => {
    const out = closedIntervals(hourly, { from: at('2024-05-05T10:20Z'), now: at('2024-05-05T13:04:59Z'), settleMs: 5 * MIN });
    expect(list(out)).toEqual(['10:00-11:00', '11:00-12:00']);
  });

  it('includes an interval the moment end + settleMs reaches now, not a millisecond before', () => {
    const opts = { from: at('2024-05-05T10:00Z'), settleMs: 5 * MIN };
    expect(list(closedIntervals(hourly, { ...opts, now: at('2024-05-05T11:04:59.999Z') }))).toEqual([]);
    expect(list(closedIntervals(hourly, { ...opts, now: at('2024-05-05T11:05Z') }))).toEqual(['10:00-11:00']);
  });

  it('with no settle delay, an interval is due exactly at its end', () => {
    expect(list(closedIntervals(hourly, { from: at('2024-05-05T10:00Z'), now: at('2024-05-05T11:00Z') }))).toEqual(['10:00-11:00']);
    expect(list(closedIntervals(hourly, { from: at('2024-05-05T10:00Z'), now: at('2024-05-05T10:59:59.999Z') }))).toEqual([]);
  });

  it('catches up after downtime in order, at most `limit` per call, resuming from the last end', () => {
    const schedule = sched('every_15_minutes');
    const now = at('2024-05-05T12:00Z');
    const first = closedIntervals(schedule, { from: at('2024-05-05T09:00Z'), now, limit: 5 });
    expect(list(first)).toEqual(['09:00-09:15', '09:15-09:30', '09:30-09:45', '09:45-10:00', '10:00-10:15']);
    const rest = closedIntervals(schedule, { from: first[first.length - 1].end, now, limit: 100 });
    expect(rest).toHaveLength(7);
    expect(list(rest)[6]).toBe('11:45-12:00');
    expect(closedIntervals(schedule, { from: at('2024-05-05T09:00Z'), now, limit: 0 })).toEqual([]);
    expect(closedIntervals(schedule, { from: at('2024-05-05T09:00Z'), now })).toHaveLength(12); // default limit 1000
    expect(closedIntervals(sched('every_5_minutes'), { from: at('2024-01-01T00:00Z'), now: at('2024-12-31T00:00Z') })).toHaveLength(1000);
  });

  it('skips intervals ending at or before startAt and keeps the one containing it whole', () => {
    const schedule = sched('hour', 'UTC', { startAt: at('2024-05-05T10:30Z') });
    const out = closedIntervals(schedule, { from: at('2024-05-05T08:00Z'), now: at('2024-05-05T12:00Z') });
    expect(list(out)).toEqual(['10:00-11:00', '11:00-12:00']);
    const aligned = sched('hour', 'UTC', { startAt: at('2024-05-05T10:00Z') });
    expect(list(closedIntervals(aligned, { from: at('2024-05-05T08:00Z'), now: at('2024-05-05T12:00Z') }))).toEqual(['10:00-11:00', '11:00-12:00']);
  });

  it('stops before intervals starting at or after endAt, keeping the one containing it whole', () => {
    const schedule = sched('hour', 'UTC', { endAt: at('2024-05-05T11:30Z') });
    expect(list(closedIntervals(schedule, { from: at('2024-05-05T09:00Z'), now: at('2024-05-05T20:00Z') }))).toEqual(['09:00-10:00', '10:00-11:00', '11:00-12:00']);
    const aligned = sched('hour', 'UTC', { endAt: at('2024-05-05T11:00Z') });
    expect(list(closedIntervals(aligned, { from: at('2024-05-05T09:00Z'), now: at('2024-05-05T20:00Z') }))).toEqual(['09:00-10:00', '10:00-11:00']);
    expect(closedIntervals(aligned, { from: at('2024-05-05T11:00Z'), now: at('2024-05-05T20:00Z') })).toEqual([]);
  });

  it('follows local days across DST', () => {
    const schedule = sched('day', 'Europe/Paris');
    const out = closedIntervals(schedule, { from: at('2024-03-30T12:00Z'), now: at('2024-04-01T22:14:59Z'), settleMs: 15 * MIN });
    expect(out.map((i) => (i.end.getTime() - i.start.getTime()) / H)).toEqual([24, 23]);
    expectInterval(out[1], '2024-03-31T00:00+01:00', '2024-04-01T00:00+02:00');
  });

  it('rejects a negative settle delay or a fractional limit', () => {
    expect(() => closedIntervals(hourly, { from: at('2024-05-05T10:00Z'), now: at('2024-05-05T11:00Z'), settleMs: -1 })).toThrow(/settleMs must be a finite number >= 0, got -1/);
    expect(() => closedIntervals(hourly, { from: at('2024-05-05T10:00Z'), now: at('2024-05-05T11:00Z'), limit: 2.5 })).toThrow(/limit must be a whole number >= 0, got 2.5/);
  });
});

describe('splitRange and intervalCount', () => {
  const cases: [string, Schedule, string, string, [string, string][]][] = [
    ['aligned hours', sched('hour'), '2024-05-05T10:00Z', '2024-05-05T13:00Z', [['2024-05-05T10:00Z', '2024-05-05T11:00Z'], ['2024-05-05T11:00Z', '2024-05-05T12:00Z'], ['2024-05-05T12:00Z', '2024-05-05T13:00Z']]],
    ['partial ends widened to whole hours', sched('hour'), '2024-05-05T10:30Z', '2024-05-05T12:00:00.001Z', [['2024-05-05T10:00Z', '2024-05-05T11:00Z'], ['2024-05-05T11:00Z', '2024-05-05T12:00Z'], ['2024-05-05T12:00Z', '2024-05-05T13:00Z']]],
    ['inside one interval', sched('day'), '2024-05-05T10:00Z', '2024-05-05T11:00Z', [['2024-05-05T00:00Z', '2024-05-06T00:00Z']]],
    ['capped by endAt', sched('hour', 'UTC', { endAt: at('2024-05-05T11:30Z') }), '2024-05-05T10:00Z', '2024-05-05T20:00Z', [['2024-05-05T10:00Z', '2024-05-05T11:00Z'], ['2024-05-05T11:00Z', '2024-05-05T12:00Z']]],
    ['entirely after endAt', sched('hour', 'UTC', { endAt: at('2024-05-05T09:00Z') }), '2024-05-05T10:00Z', '2024-05-05T20:00Z', []],
    ['startAt does not limit a backfill', sched('hour', 'UTC', { startAt: at('2024-05-06T00:00Z') }), '2024-05-05T10:00Z', '2024-05-05T11:00Z', [['2024-05-05T10:00Z', '2024-05-05T11:00Z']]],
    ['local days across the Paris spring gap', sched('day', 'Europe/Paris', { offsetHour: 2 }), '2024-03-30T12:00Z', '2024-04-01T12:00Z', [['2024-03-30T02:00+01:00', '2024-03-31T03:00+02:00'], ['2024-03-31T03:00+02:00', '2024-04-01T02:00+02:00'], ['2024-04-01T02:00+02:00', '2024-04-02T02:00+02:00']]],
    ['weeks across New York autumn', sched('week', 'America/New_York', { offsetDay: 1, offsetHour: 9 }), '2024-10-28T13:00Z', '2024-11-11T14:00Z', [['2024-10-28T09:00-04:00', '2024-11-04T09:00-05:00'], ['2024-11-04T09:00-05:00', '2024-11-11T09:00-05:00']]],
  ];
  it.each(cases)('%s', (_name, schedule, start, end, expected) => {
    const out = splitRange(schedule, at(start), at(end));
    expect(out.map(iso)).toEqual(expected.map(([s, e]) => [at(s).toISOString(), at(e).toISOString()]));
    expect(intervalCount(schedule, at(start), at(end))).toBe(expected.length);
  });

  it('rejects an empty or reversed range', () => {
    expect(() => splitRange(sched('hour'), at('2024-05-05T10:00Z'), at('2024-05-05T10:00Z'))).toThrow(/backfill start \(2024-05-05T10:00:00.000Z\) must be before end/);
    expect(() => intervalCount(sched('hour'), at('2024-05-05T11:00Z'), at('2024-05-05T10:00Z'))).toThrow(/must be before end/);
  });

  it('counts match the split over long ranges in DST zones', () => {
    const random = mulberry32(42);
    const base = Date.parse('2023-01-01T00:00Z');
    for (const schedule of [sched('every_5_minutes'), sched('hour', 'Australia/Lord_Howe'), sched('hour', 'Europe/Paris'), sched('day', 'Pacific/Chatham', { offsetHour: 3 }), sched('week', 'America/New_York', { offsetDay: 1, offsetHour: 9 })]) {
      for (let i = 0; i < 5; i++) {
        const start = base + Math.floor(random() * 300 * D);
        const end = start + 1 + Math.floor(random() * (schedule.interval === 'every_5_minutes' ? 3 * D : 400 * D));
        const split = splitRange(schedule, new Date(start), new Date(end));
        expect(intervalCount(schedule, new Date(start), new Date(end))).toBe(split.length);
        expect(split[0].start.getTime()).toBeLessThanOrEqual(start);
        expect(split[split.length - 1].end.getTime()).toBeGreaterThanOrEqual(end);
        expect(split.slice(1).filter((interval, k) => interval.start.getTime() !== split[k].end.getTime())).toEqual([]);
      }
    }
  });
});

describe('intervalCount over long ranges', () => {
  it('matches the split for 50 years of Paris days and weeks', () => {
    for (const schedule of [sched('day', 'Europe/Paris', { offsetHour: 2 }), sched('week', 'Europe/Paris', { offsetDay: 0, offsetHour: 2 })]) {
      const start = at('1974-06-01T00:00Z');
      const end = at('2024-06-01T00:00Z');
      expect(intervalCount(schedule, start, end)).toBe(splitRange(schedule, start, end).length);
    }
  });

  it('counts two millennia of UTC days and 5-minute intervals arithmetically', () => {
    const start = at('0001-01-01T00:00Z');
    const end = at('2024-01-01T00:00Z');
    const days = (end.getTime() - start.getTime()) / D;
    expect(intervalCount(sched('day'), start, end)).toBe(days);
    // 0001-01-01 and 2024-01-01 are both Mondays; the range ends at 05:30 Monday in Kolkata, one week more.
    expect(days % 7).toBe(0);
    expect(intervalCount(sched('week', 'Asia/Kolkata', { offsetDay: 1 }), start, end)).toBe(days / 7 + 1);
    expect(intervalCount(sched('every_5_minutes'), start, end)).toBe(days * 288);
  });
});

describe('firstInterval', () => {
  it('is the interval in progress at creation', () => {
    expectInterval(firstInterval(sched('hour'), at('2024-05-05T10:20Z')), '2024-05-05T10:00Z', '2024-05-05T11:00Z');
    expectInterval(firstInterval(sched('day', 'America/New_York'), at('2024-11-03T12:00Z')), '2024-11-03T00:00-04:00', '2024-11-04T00:00-05:00');
  });

  it('is the interval containing startAt when that is later than creation', () => {
    const schedule = sched('day', 'Europe/Paris', { startAt: at('2024-06-10T12:00Z') });
    expectInterval(firstInterval(schedule, at('2024-05-05T10:20Z')), '2024-06-10T00:00+02:00', '2024-06-11T00:00+02:00');
  });

  it('ignores a startAt in the past (earlier data is for backfills)', () => {
    const schedule = sched('hour', 'UTC', { startAt: at('2024-01-01T00:00Z') });
    expectInterval(firstInterval(schedule, at('2024-05-05T10:20Z')), '2024-05-05T10:00Z', '2024-05-05T11:00Z');
  });

  it('past endAt, closedIntervals from it yields nothing', () => {
    const schedule = sched('hour', 'UTC', { endAt: at('2024-05-05T09:00Z') });
    const first = firstInterval(schedule, at('2024-05-05T10:20Z'));
    expect(closedIntervals(schedule, { from: first.start, now: at('2024-05-06T00:00Z') })).toEqual([]);
  });
});

describe('dueIntervals', () => {
  const list = (intervals: Interval[]) => intervals.map((i) => `${i.start.toISOString().slice(5, 16)}/${i.end.toISOString().slice(5, 16)}`);

  it('starts exactly at coveredUntil: on the grid it is closedIntervals', () => {
    const s = sched('every_15_minutes');
    const opts = { coveredUntil: at('2024-05-05T09:00Z'), now: at('2024-05-05T10:00Z') };
    expect(dueIntervals(s, opts)).toEqual(closedIntervals(s, { from: opts.coveredUntil, now: opts.now }));
  });

  it('bridges an off-grid coverage end to the next boundary, for every kind of change', () => {
    expect(list(dueIntervals(sched('every_15_minutes'), { coveredUntil: at('2024-05-05T04:25Z'), now: at('2024-05-05T05:00Z') }))).toEqual([
      '05-05T04:25/05-05T04:30', '05-05T04:30/05-05T04:45', '05-05T04:45/05-05T05:00',
    ]);
    expect(list(dueIntervals(sched('hour', 'Asia/Kolkata'), { coveredUntil: at('2024-05-05T10:00Z'), now: at('2024-05-05T11:30Z') }))).toEqual([
      '05-05T10:00/05-05T10:30', '05-05T10:30/05-05T11:30',
    ]);
    expect(list(dueIntervals(sched('day', 'Europe/Paris', { offsetHour: 3 }), { coveredUntil: at('2024-05-05T14:00Z'), now: at('2024-05-07T01:00Z') }))).toEqual([
      '05-05T14:00/05-06T01:00', '05-06T01:00/05-07T01:00',
    ]);
    expect(list(dueIntervals(sched('week', 'UTC', { offsetDay: 1 }), { coveredUntil: at('2024-05-08T00:00Z'), now: at('2024-05-13T00:00Z') }))).toEqual([
      '05-08T00:00/05-13T00:00',
    ]);
  });

  it('waits for the bridge to close (plus settle) like any interval', () => {
    const s = sched('hour');
    expect(dueIntervals(s, { coveredUntil: at('2024-05-05T10:20Z'), now: at('2024-05-05T11:04Z'), settleMs: 5 * MIN })).toEqual([]);
    expect(list(dueIntervals(s, { coveredUntil: at('2024-05-05T10:20Z'), now: at('2024-05-05T11:05Z'), settleMs: 5 * MIN }))).toEqual(['05-05T10:20/05-05T11:00']);
  });

  it('startAt past the coverage moves the start to the interval containing it, never before the coverage', () => {
    const s = sched('every_15_minutes', 'UTC', { startAt: at('2024-05-05T04:27Z') });
    expect(list(dueIntervals(s, { coveredUntil: at('2024-05-05T04:25Z'), now: at('2024-05-05T04:45Z') }))).toEqual(['05-05T04:25/05-05T04:30', '05-05T04:30/05-05T04:45']);
    const later = sched('every_15_minutes', 'UTC', { startAt: at('2024-05-05T06:20Z') });
    expect(list(dueIntervals(later, { coveredUntil: at('2024-05-05T04:25Z'), now: at('2024-05-05T06:30Z') }))).toEqual(['05-05T06:15/05-05T06:30']);
  });

  it('stops at endAt (the last interval may reach past it) and at limit', () => {
    const s = sched('hour', 'UTC', { endAt: at('2024-05-05T12:30Z') });
    expect(list(dueIntervals(s, { coveredUntil: at('2024-05-05T10:15Z'), now: at('2024-05-06T00:00Z') }))).toEqual([
      '05-05T10:15/05-05T11:00', '05-05T11:00/05-05T12:00', '05-05T12:00/05-05T13:00',
    ]);
    expect(dueIntervals(s, { coveredUntil: at('2024-05-05T13:00Z'), now: at('2024-05-06T00:00Z') })).toEqual([]);
    expect(dueIntervals(sched('hour'), { coveredUntil: at('2024-05-05T10:15Z'), now: at('2024-05-06T00:00Z'), limit: 2 })).toHaveLength(2);
  });
});
