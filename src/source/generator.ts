/**
 * Deterministic PostHog-shaped test data: the same seed always gives the same rows, and every row carries an
 * explicit insertion time, so tests and benchmarks know exactly which run must read it.
 *
 * - `generateEvents` / `hostileEvents` / `generatePersons` build rows in JS (inserted with JSONEachRow);
 * - `insertBulkEvents` generates millions of events inside ClickHouse (INSERT ... SELECT FROM numbers()),
 *   so no row passes through Node.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { isIdentifier } from './config';

/** Small, fast, seedable PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An events-table row as inserted; times are `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
export interface SourceEvent {
  uuid: string;
  team_id: number;
  event: string;
  distinct_id: string;
  person_id: string;
  properties: string;
  person_properties: string;
  elements_chain: string;
  timestamp: string;
  created_at: string;
  /** Null: the row predates `inserted_at`; `_timestamp` is its insertion time. */
  inserted_at: string | null;
  _timestamp: string;
}

export interface PersonRow {
  id: string;
  team_id: number;
  properties: string;
  is_identified: number;
  is_deleted: number;
  version: number;
  created_at: string;
  _timestamp: string;
}

export interface PersonDistinctIdRow {
  team_id: number;
  distinct_id: string;
  person_id: string;
  is_deleted: number;
  version: number;
  _timestamp: string;
}

const EVENT_MIX = ['$pageview', '$pageview', '$pageview', '$autocapture', '$autocapture', '$pageleave', 'signed_up', 'purchase', '$identify'];
const UTM_SOURCES = ['google', 'newsletter', 'twitter', null];

export function uuidFrom(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** ISO-8601 with microseconds from epoch microseconds. */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(us % 1000).padStart(3, '0')}Z`;
}

export function microsOf(d: Date | string): number {
  if (typeof d === 'string') {
    const extra = /\.\d{3}(\d{3})/.exec(d)?.[1];
    return new Date(d).getTime() * 1000 + (extra ? Number(extra) : 0);
  }
  return d.getTime() * 1000;
}

export interface GenerateEventsOptions {
  seed: number;
  count: number;
  teamId: number;
  /** Timestamp of the first event. */
  start: Date;
  /** Microseconds between consecutive events' timestamps. Default: 1_000_000 (1 s). */
  stepMicros?: number;
  /** Microseconds between an event's timestamp and its insertion. Default: 30_000_000 (30 s). */
  insertDelayMicros?: number;
  /** Events per session. Default: 10. */
  sessionLength?: number;
  /** Padding so the properties JSON is about this many bytes. Default: 1000. */
  propertiesBytes?: number;
}

/** Realistic events: $pageview/$autocapture/custom, $session_id, $current_url, utm_*, $set on $identify. */
export function generateEvents(o: GenerateEventsOptions): SourceEvent[] {
  const rand = prng(o.seed);
  const step = o.stepMicros ?? 1_000_000;
  const delay = o.insertDelayMicros ?? 30_000_000;
  const sessionLength = o.sessionLength ?? 10;
  const t0 = microsOf(o.start);
  const out: SourceEvent[] = [];
  let distinctId = '';
  let personId = '';
  let session = '';
  let utm: string | null = null;
  for (let i = 0; i < o.count; i++) {
    if (i % sessionLength === 0) {
      distinctId = `user-${o.teamId}-${Math.floor(rand() * 1000)}`;
      personId = uuidFrom(rand);
      session = uuidFrom(rand);
      utm = UTM_SOURCES[Math.floor(rand() * UTM_SOURCES.length)];
    }
    const event = EVENT_MIX[Math.floor(rand() * EVENT_MIX.length)];
    const props: Record<string, unknown> = {
      $session_id: session,
      $current_url: `https://example.com/${['home', 'pricing', 'docs', 'blog'][Math.floor(rand() * 4)]}?i=${i}`,
      $browser: ['Chrome', 'Firefox', 'Safari'][Math.floor(rand() * 3)],
      $lib: 'web',
      amount: Math.floor(rand() * 1000),
    };
    if (utm && i % sessionLength === 0) Object.assign(props, { utm_source: utm, utm_medium: 'cpc', utm_campaign: `c${o.seed}` });
    if (event === '$identify') {
      props.$set = { email: `${distinctId}@example.com`, plan: 'pro' };
      props.$set_once = { first_seen: isoMicros(t0) };
    }
    const base = JSON.stringify(props);
    props.padding = 'x'.repeat(Math.max(0, (o.propertiesBytes ?? 1000) - base.length - 14));
    const ts = t0 + i * step;
    out.push({
      uuid: uuidFrom(rand),
      team_id: o.teamId,
      event,
      distinct_id: distinctId,
      person_id: personId,
      properties: JSON.stringify(props),
      person_properties: JSON.stringify({ email: `${distinctId}@example.com` }),
      elements_chain: event === '$autocapture' ? `button.btn:text="Buy"nth-child="${i % 5}"` : '',
      timestamp: isoMicros(ts),
      created_at: isoMicros(ts + 1000),
      inserted_at: isoMicros(ts + delay),
      _timestamp: isoMicros(Math.floor((ts + delay) / 1_000_000) * 1_000_000),
    });
  }
  return out;
}

/** Values that break naive exporters. Every one is valid Unicode (no lone surrogates). */
export const HOSTILE_STRINGS: readonly string[] = [
  'nul\u0000byte',
  'emoji 😀👍🏽🏳️‍🌈 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'rtl \u202Eevil\u202C mark \u200F',
  'quotes " \' ` and backslashes \\ \\\\ \\n (literal)',
  'line\nbreak\r\nand\ttab',
  '{"looks":"like json"}',
  "'); DROP TABLE events; --",
  'x'.repeat(100_000),
];

function nested(depth: number): unknown {
  let v: unknown = { leaf: 'bottom \u0000 😀' };
  for (let i = 0; i < depth; i++) v = { [`level${i}`]: v, arr: [i] };
  return v;
}

/** One event per hostile value (in properties, distinct_id, event name and elements_chain), plus deep JSON. */
export function hostileEvents(o: { seed: number; teamId: number; start: Date; insertDelayMicros?: number }): SourceEvent[] {
  const events = generateEvents({ seed: o.seed, count: HOSTILE_STRINGS.length + 1, teamId: o.teamId, start: o.start, insertDelayMicros: o.insertDelayMicros });
  return events.map((e, i) => {
    const s = HOSTILE_STRINGS[i];
    if (s === undefined) return { ...e, properties: JSON.stringify({ deep: nested(60), $session_id: 'hostile' }) };
    return {
      ...e,
      event: `evt ${s.slice(0, 200)}`,
      distinct_id: s,
      elements_chain: s,
      properties: JSON.stringify({ value: s, [s.slice(0, 50)]: 'key too', $set: { name: s } }),
      person_properties: JSON.stringify({ name: s }),
    };
  });
}

export interface GeneratePersonsOptions {
  seed: number;
  teamId: number;
  persons: number;
  /** `_timestamp` of the first version; later versions come later. */
  start: Date;
  /** Microseconds between successive changes. Default: 1_000_000. */
  stepMicros?: number;
}

/**
 * Persons with history: each starts anonymous (`anon-*` distinct id, version 0), is identified (second distinct
 * id, person version 1), some change properties again (version 2), some are merged (their `user-*` distinct id
 * moves to another person at a higher version) and some are deleted (is_deleted = 1 at a higher version).
 * `_timestamp` only moves forward, one step per change, and is whole seconds like PostHog's.
 */
export function generatePersons(o: GeneratePersonsOptions): { persons: PersonRow[]; distinctIds: PersonDistinctIdRow[] } {
  const rand = prng(o.seed);
  const step = Math.max(1_000_000, o.stepMicros ?? 1_000_000);
  let now = Math.floor(microsOf(o.start) / 1_000_000) * 1_000_000;
  const tick = () => isoMicros((now += step) - step);
  const persons: PersonRow[] = [];
  const distinctIds: PersonDistinctIdRow[] = [];
  const ids: string[] = [];
  for (let i = 0; i < o.persons; i++) {
    const id = uuidFrom(rand);
    ids.push(id);
    const created = tick();
    persons.push({ id, team_id: o.teamId, properties: JSON.stringify({ anon: true, n: i }), is_identified: 0, is_deleted: 0, version: 0, created_at: created, _timestamp: created });
    distinctIds.push({ team_id: o.teamId, distinct_id: `anon-${o.teamId}-${i}`, person_id: id, is_deleted: 0, version: 0, _timestamp: created });
  }
  for (let i = 0; i < o.persons; i++) {
    const t = tick();
    persons.push({ ...persons[i], properties: JSON.stringify({ email: `p${i}@example.com`, n: i, plan: 'free' }), is_identified: 1, version: 1, _timestamp: t });
    distinctIds.push({ team_id: o.teamId, distinct_id: `user-${o.teamId}-${i}`, person_id: ids[i], is_deleted: 0, version: 1, _timestamp: t });
  }
  for (let i = 0; i < o.persons; i++) {
    const r = rand();
    const t = tick();
    if (r < 0.3) {
      persons.push({ ...persons[i], properties: JSON.stringify({ email: `p${i}@example.com`, n: i, plan: 'pro', churn: r }), is_identified: 1, version: 2, _timestamp: t });
    } else if (r < 0.4 && i > 0) {
      distinctIds.push({ team_id: o.teamId, distinct_id: `user-${o.teamId}-${i}`, person_id: ids[i - 1], is_deleted: 0, version: 2, _timestamp: t });
    } else if (r < 0.45) {
      persons.push({ ...persons[i], is_deleted: 1, version: 3, _timestamp: t });
      distinctIds.push({ team_id: o.teamId, distinct_id: `anon-${o.teamId}-${i}`, person_id: ids[i], is_deleted: 1, version: 3, _timestamp: t });
    }
  }
  return { persons, distinctIds };
}

const chTime = (iso: string | null) => (iso === null ? null : iso.replace('T', ' ').replace('Z', ''));

export interface TableNames {
  database: string;
  events?: string;
  person?: string;
  personDistinctId?: string;
}

function tableOf(names: TableNames, which: 'events' | 'person' | 'personDistinctId'): string {
  const fallback = { events: 'events', person: 'person', personDistinctId: 'person_distinct_id2' }[which];
  const t = names[which] ?? fallback;
  if (!isIdentifier(names.database) || !isIdentifier(t)) throw new Error(`invalid table name ${names.database}.${t}`);
  return `${names.database}.${t}`;
}

async function insertChunked(client: ClickHouseClient, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    await client.insert({ table, values: rows.slice(i, i + 5000), format: 'JSONEachRow' });
  }
}

export async function insertEvents(client: ClickHouseClient, names: TableNames, rows: readonly SourceEvent[]): Promise<void> {
  await insertChunked(
    client,
    tableOf(names, 'events'),
    rows.map((r, i) => ({
      ...r,
      timestamp: chTime(r.timestamp),
      created_at: chTime(r.created_at),
      inserted_at: chTime(r.inserted_at),
      _timestamp: chTime(r._timestamp)!.slice(0, 19),
      _offset: i,
    })),
  );
}

/**
 * Inserts person history. Each version goes in its own INSERT after the versions before it (a ReplacingMergeTree
 * collapses equal keys within one inserted block, which would erase the history before any reader saw it).
 */
export async function insertPersons(
  client: ClickHouseClient,
  names: TableNames,
  data: { persons: readonly PersonRow[]; distinctIds: readonly PersonDistinctIdRow[] },
): Promise<void> {
  for (const generation of generations(data.persons, (p) => `${p.team_id}/${p.id}`)) {
    await insertChunked(
      client,
      tableOf(names, 'person'),
      generation.map((p) => ({ ...p, created_at: chTime(p.created_at), _timestamp: chTime(p._timestamp)!.slice(0, 19), _offset: 0 })),
    );
  }
  for (const generation of generations(data.distinctIds, (d) => `${d.team_id}/${d.distinct_id}`)) {
    await insertChunked(
      client,
      tableOf(names, 'personDistinctId'),
      generation.map((d) => ({ ...d, _timestamp: chTime(d._timestamp)!.slice(0, 19), _offset: 0, _partition: 0 })),
    );
  }
}

/** Splits rows so that the n-th row of each key lands in the n-th group. */
function generations<T>(rows: readonly T[], key: (row: T) => string): T[][] {
  const seen = new Map<string, number>();
  const out: T[][] = [];
  for (const row of rows) {
    const k = key(row);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    (out[n] ??= []).push(row);
  }
  return out;
}

export interface BulkEventsOptions {
  seed: number;
  count: number;
  /** Teams 1..teams, in blocks of 20 consecutive events (one session per block). Default: 1. */
  teams?: number;
  /** Timestamp of event 0. */
  start: Date;
  /** Microseconds between consecutive events. Default: 1000 (1000 events per second). */
  stepMicros?: number;
  /** Insertion time = timestamp + this. Default: 30 s. */
  insertDelayMicros?: number;
  /** Row number of the first event (to append more rows to an existing set). Default: 0. */
  offset?: number;
  /** Bytes of padding in properties (rounded down to 16). Default: 896, for ~1 KB properties. */
  paddingBytes?: number;
}

/**
 * Generates events inside ClickHouse: about 1 KB of properties each, deterministic in (seed, row number), with
 * $session_id (20 events per session), $current_url, utm_* on the first event of a session.
 */
export async function insertBulkEvents(client: ClickHouseClient, names: TableNames, o: BulkEventsOptions): Promise<void> {
  const h = (k: number) => `cityHash64({seed:UInt64}, n, ${k})`;
  const hex32 = `concat(leftPad(hex(${h(1)}), 16, '0'), leftPad(hex(${h(2)}), 16, '0'))`;
  const uuid = `toUUID(concat(substring(hx, 1, 8), '-', substring(hx, 9, 4), '-4', substring(hx, 14, 3), '-a', substring(hx, 18, 3), '-', substring(hx, 21, 12)))`;
  const events = EVENT_MIX.map((e) => `'${e}'`).join(', ');
  await client.command({
    query: `INSERT INTO ${tableOf(names, 'events')}
      (uuid, event, properties, timestamp, team_id, distinct_id, elements_chain, created_at, person_id, person_properties, inserted_at, _timestamp, _offset)
      SELECT ${uuid} AS uuid, ev AS event,
        toJSONString(map(
          '$session_id', concat('s-', toString({seed:UInt64}), '-', toString(intDiv(n, 20))),
          '$current_url', concat('https://example.com/page/', toString(${h(6)} % 50)),
          '$browser', ['Chrome', 'Firefox', 'Safari'][1 + ${h(7)} % 3],
          'utm_source', if(n % 20 = 0, 'google', ''),
          'padding', repeat(leftPad(hex(${h(5)}), 16, '0'), {padding:UInt32})
        )) AS properties,
        ts AS timestamp, team AS team_id, did AS distinct_id,
        if(ev = '$autocapture', 'button.btn:text="Buy"', '') AS elements_chain,
        ts AS created_at, toUUID('00000000-0000-4000-a000-000000000001') AS person_id,
        concat('{"email":"', did, '@example.com"}') AS person_properties,
        ts + toIntervalMicrosecond({delay:Int64}) AS inserted_at,
        toDateTime(ts + toIntervalMicrosecond({delay:Int64}), 'UTC') AS _timestamp,
        n AS _offset
      FROM (
        SELECT number + {offset:UInt64} AS n, ${hex32} AS hx,
          [${events}][1 + ${h(3)} % ${EVENT_MIX.length}] AS ev,
          toInt64(1 + intDiv(n, 20) % {teams:UInt64}) AS team,
          concat('user-', toString(intDiv(n, 20) % 5000)) AS did,
          toDateTime64({start:DateTime64(6, 'UTC')}, 6, 'UTC') + toIntervalMicrosecond(n * {step:Int64}) AS ts
        FROM numbers({count:UInt64})
      )`,
    query_params: {
      seed: o.seed,
      padding: Math.floor((o.paddingBytes ?? 896) / 16),
      offset: o.offset ?? 0,
      teams: o.teams ?? 1,
      count: o.count,
      step: o.stepMicros ?? 1000,
      delay: o.insertDelayMicros ?? 30_000_000,
      start: chTime(isoMicros(microsOf(o.start))),
    },
  });
}
