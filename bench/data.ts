/**
 * The benchmark's data: N events whose insertion times all fall in ONE hourly interval (so one run reads them
 * all), generated inside ClickHouse, and a persons history whose changes all fall in one persons interval.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { generatePersons, insertBulkEvents, insertPersons } from '../src/source';
import { CH_DATABASE } from './services';

export const TEAM_ID = 1;
export const EVENTS_INTERVAL = { start: new Date('2026-09-01T10:00:00Z'), end: new Date('2026-09-01T11:00:00Z') };
const INSERT_DELAY_MICROS = 30_000_000;
const CHUNK = 1_000_000;

export interface Generated {
  rows: number;
  seconds: number;
  /** Median / mean byte length of the `properties` JSON, measured in ClickHouse after the insert. */
  propertiesBytes: { median: number; mean: number };
}

/** N events, ~1 KB of properties each, inserted in 1M-row statements so no single INSERT grows without bound. */
export async function generateEventsData(ch: ClickHouseClient, n: number, log: (s: string) => void): Promise<Generated> {
  const hourMicros = (EVENTS_INTERVAL.end.getTime() - EVENTS_INTERVAL.start.getTime()) * 1000;
  const step = Math.floor(hourMicros / n);
  if (step < 1) throw new Error(`--events ${n} does not fit one hour at microsecond spacing`);
  // Insertion time = timestamp + 30 s: the first event lands exactly at the interval start, the last before its end.
  const start = new Date(EVENTS_INTERVAL.start.getTime() - INSERT_DELAY_MICROS / 1000);
  const t0 = Date.now();
  for (let offset = 0; offset < n; offset += CHUNK) {
    const count = Math.min(CHUNK, n - offset);
    await insertBulkEvents(ch, { database: CH_DATABASE }, {
      seed: 42, count, offset, teams: 1, start, stepMicros: step, insertDelayMicros: INSERT_DELAY_MICROS,
    });
    log(`  generated ${(offset + count).toLocaleString('en-US')} / ${n.toLocaleString('en-US')} events`);
  }
  const seconds = (Date.now() - t0) / 1000;
  const rs = await ch.query({
    query: `SELECT count() AS rows, quantileExact(0.5)(length(properties)) AS median, avg(length(properties)) AS mean FROM ${CH_DATABASE}.events`,
    format: 'JSONEachRow',
  });
  const [s] = await rs.json<{ rows: number; median: number; mean: number }>();
  if (Number(s.rows) !== n) throw new Error(`expected ${n} events in ClickHouse, found ${s.rows}`);
  return { rows: n, seconds, propertiesBytes: { median: Number(s.median), mean: Math.round(Number(s.mean)) } };
}

/** Persons start here; each change of the history is one second later than the one before. */
const PERSONS_START = new Date('2026-08-03T00:00:00Z');

export interface PersonsData {
  persons: number;
  /** Version rows inserted (person + person_distinct_id2). */
  versionRows: number;
  seconds: number;
  /** One interval (whole weeks from a Monday) holding every change. */
  interval: { start: Date; end: Date };
}

export async function generatePersonsData(ch: ClickHouseClient, persons: number): Promise<PersonsData> {
  const t0 = Date.now();
  const data = generatePersons({ seed: 7, teamId: TEAM_ID, persons, start: PERSONS_START });
  await insertPersons(ch, { database: CH_DATABASE }, data);
  // About three changes per person, one second apart: round the span up to whole days.
  let lastChange = 0;
  for (const r of [...data.persons, ...data.distinctIds]) lastChange = Math.max(lastChange, Date.parse(r._timestamp));
  // A week (PERSONS_START is a Monday) holds 200k persons; more take longer intervals of whole weeks.
  const days = 7 * Math.ceil((lastChange + 1000 - PERSONS_START.getTime()) / (7 * 86_400_000));
  return {
    persons,
    versionRows: data.persons.length + data.distinctIds.length,
    seconds: (Date.now() - t0) / 1000,
    interval: { start: PERSONS_START, end: new Date(PERSONS_START.getTime() + days * 86_400_000) },
  };
}
