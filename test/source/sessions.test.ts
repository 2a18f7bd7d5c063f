import type { Row } from '../../src/sdk/models';
import { generateEvents, insertEvents, isoMicros, microsOf, type SourceEvent } from '../../src/source/generator';
import { collect, createTestClickHouse } from './support/clickhouse';

const S = new Date('2024-03-01T00:00:00Z');
const SEC = 1_000_000;
const at = (us: number) => isoMicros(microsOf(S) + us);

/** The documented sessions rule, computed independently in JS. */
function expectedSessions(events: SourceEvent[], start: number, end: number): Row[] {
  const s = microsOf(S) + start;
  const e = microsOf(S) + end;
  const ins = (x: SourceEvent) => microsOf(x.inserted_at ?? x._timestamp);
  const sid = (x: SourceEvent) => JSON.parse(x.properties).$session_id as string;
  const touched = new Set(events.filter((x) => ins(x) >= s && ins(x) < e).map(sid));
  const out: Row[] = [];
  for (const id of touched) {
    const evs = events.filter((x) => sid(x) === id && ins(x) < e).sort((a, b) => microsOf(a.timestamp) - microsOf(b.timestamp));
    const first = evs[0];
    const fp = JSON.parse(first.properties);
    const urls = evs.map((x) => JSON.parse(x.properties).$current_url as string | undefined).filter((u) => u !== undefined);
    const duration = (microsOf(evs[evs.length - 1].timestamp) - microsOf(first.timestamp)) / 1e6;
    const pageviews = evs.filter((x) => x.event === '$pageview').length;
    const maxIns = Math.max(...evs.map(ins));
    out.push({
      team_id: first.team_id,
      session_id: id,
      distinct_id: first.distinct_id,
      start_timestamp: first.timestamp,
      end_timestamp: evs[evs.length - 1].timestamp,
      duration_seconds: duration,
      entry_url: urls[0] ?? null,
      exit_url: urls[urls.length - 1] ?? null,
      pageview_count: pageviews,
      autocapture_count: evs.filter((x) => x.event === '$autocapture').length,
      is_bounce: pageviews <= 1 && duration < 10,
      utm_source: fp.utm_source ?? null,
      utm_medium: fp.utm_medium ?? null,
      utm_campaign: fp.utm_campaign ?? null,
      utm_term: fp.utm_term ?? null,
      utm_content: fp.utm_content ?? null,
      session_version: maxIns,
      _inserted_at: isoMicros(maxIns),
    });
  }
  return out.sort((a, b) => ((a.session_id as string) < (b.session_id as string) ? -1 : 1));
}

describe('ClickHouseSource: sessions model', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  // Sessions of 15 events, 2 s apart, inserted 5 s later: some sessions straddle run boundaries.
  const events = [
    ...generateEvents({ seed: 21, count: 120, teamId: 1, start: S, stepMicros: 2 * SEC, insertDelayMicros: 5 * SEC, sessionLength: 15 }),
    ...generateEvents({ seed: 22, count: 30, teamId: 1, start: S, stepMicros: 0.5 * SEC, insertDelayMicros: 5 * SEC, sessionLength: 3 }),
  ];

  beforeAll(async () => {
    ctx = await createTestClickHouse('src_sessions');
    await insertEvents(ctx.client, { database: ctx.database }, events);
    await insertEvents(ctx.client, { database: ctx.database }, generateEvents({ seed: 23, count: 30, teamId: 2, start: S }));
  });
  afterAll(() => ctx.drop());

  it('aggregates each session touched in the interval over its events so far', async () => {
    for (const [start, end] of [[0, 60 * SEC], [60 * SEC, 120 * SEC], [120 * SEC, 300 * SEC], [0, 300 * SEC]]) {
      const q = { teamId: 1, model: 'sessions' as const, interval: { start: at(start), end: at(end) } };
      const rows = await collect(ctx.source.stream(q, { batchSize: 4 }));
      expect(await ctx.source.count(q)).toBe(rows.length);
      expect({ start, end, rows }).toEqual({ start, end, rows: expectedSessions(events, start, end) });
    }
  });

  it('versions a straddling session so the later run wins', async () => {
    const first = await collect(ctx.source.stream({ teamId: 1, model: 'sessions', interval: { start: at(0), end: at(60 * SEC) } }));
    const second = await collect(ctx.source.stream({ teamId: 1, model: 'sessions', interval: { start: at(60 * SEC), end: at(120 * SEC) } }));
    const both = first.filter((r) => second.some((x) => x.session_id === r.session_id));
    expect(both.length).toBeGreaterThan(0);
    for (const r of both) {
      const later = second.find((x) => x.session_id === r.session_id)!;
      expect(later.session_version as number).toBeGreaterThan(r.session_version as number);
      expect(later.end_timestamp! > r.end_timestamp!).toBe(true);
    }
    expect(first.some((r) => r.is_bounce === true) || second.some((r) => r.is_bounce === true)).toBe(true);
  });
});
