import type { Row } from '../../src/sdk/models';
import { generateEvents, hostileEvents, insertEvents, isoMicros, microsOf, type SourceEvent } from '../../src/source/generator';
import type { SourceQuery } from '../../src/source/source';
import { collect, createTestClickHouse } from './support/clickhouse';

const S = new Date('2024-03-01T00:00:00Z');
const H = 3_600_000_000; // one hour in µs
const at = (us: number) => isoMicros(microsOf(S) + us);
const insertionOf = (e: SourceEvent) => microsOf(e.inserted_at ?? e._timestamp);

describe('ClickHouseSource: events model', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  let all: SourceEvent[];
  let team1: SourceEvent[];

  beforeAll(async () => {
    ctx = await createTestClickHouse('src_events');
    // Duplicates below must stay unmerged for the test to know what is stored (merges are lazy in production too).
    await ctx.client.command({ query: `SYSTEM STOP MERGES ${ctx.database}.events` });
    // Team 1: 300 events, one every 30 s from S, inserted 30 s later: insertion times S+30s .. S+150min.
    team1 = generateEvents({ seed: 11, count: 300, teamId: 1, start: S, stepMicros: 30_000_000 });
    const base = team1[0];
    const special: SourceEvent[] = [
      // Exactly at the end of the first hour: belongs to the second run.
      { ...base, uuid: '00000000-0000-4000-a000-000000000001', inserted_at: at(H) },
      { ...base, uuid: '00000000-0000-4000-a000-000000000002', inserted_at: at(H - 1) },
      // No inserted_at: _timestamp is its insertion time.
      { ...base, uuid: '00000000-0000-4000-a000-000000000003', inserted_at: null, _timestamp: at(2 * H + 10_000_000) },
      // Timestamp 6 days before the run: inside the 7-day lookback.
      { ...base, uuid: '00000000-0000-4000-a000-000000000004', timestamp: at(-6 * 24 * H), inserted_at: at(10_000_000) },
      // Timestamp 8 days before the run: outside the lookback, never exported.
      { ...base, uuid: '00000000-0000-4000-a000-000000000005', timestamp: at(-8 * 24 * H), inserted_at: at(10_000_000) },
    ];
    // The same uuid inserted twice in one hour, and once more (a retry) two hours later.
    const dup = { ...team1[5] };
    const duplicates = [
      { ...dup, inserted_at: at(microsOf(dup.inserted_at!) - microsOf(S) + 1_000_000) },
      { ...dup, inserted_at: at(2 * H + 1_000_000) },
    ];
    const team2 = generateEvents({ seed: 12, count: 100, teamId: 2, start: S, stepMicros: 30_000_000 });
    all = [...team1, ...special, ...duplicates, ...team2];
    await insertEvents(ctx.client, { database: ctx.database }, [...team1, ...special, ...team2]);
    // Separate inserts: a ReplacingMergeTree collapses equal keys within one inserted block.
    for (const d of duplicates) await insertEvents(ctx.client, { database: ctx.database }, [d]);
    team1 = [...team1, ...special];
  });
  afterAll(() => ctx.drop());

  const run = async (q: Partial<SourceQuery> & { start: number; end: number }): Promise<Row[]> => {
    const query: SourceQuery = { teamId: 1, model: 'events', ...q, interval: { start: at(q.start), end: at(q.end) } };
    const rows = await collect(ctx.source.stream(query, { batchSize: 37 }));
    expect(await ctx.source.count(query)).toBe(rows.length);
    return rows;
  };

  /** The events of team 1 a run over [start, end) must return, by the documented rules. */
  const expected = (start: number, end: number, keep: (e: SourceEvent) => boolean = () => true) => {
    const lo = microsOf(S) + start - 7 * 24 * H;
    const hi = microsOf(S) + end + 24 * H;
    return team1
      .filter((e) => microsOf(e.timestamp) >= lo && microsOf(e.timestamp) < hi)
      .filter((e) => insertionOf(e) >= microsOf(S) + start && insertionOf(e) < microsOf(S) + end)
      .filter(keep)
      .map((e) => e.uuid)
      .sort();
  };

  it('returns rows by insertion time in [start, end), a row at end belonging to the next run', async () => {
    const first = await run({ start: 0, end: H });
    const second = await run({ start: H, end: 2 * H });
    expect(first.map((r) => r.uuid).sort()).toEqual(expected(0, H));
    expect(second.map((r) => r.uuid).sort()).toEqual(expected(H, 2 * H));
    expect(first.map((r) => r.uuid)).toContain('00000000-0000-4000-a000-000000000002');
    expect(second.map((r) => r.uuid)).toContain('00000000-0000-4000-a000-000000000001');
    expect(first.map((r) => r.uuid)).toContain('00000000-0000-4000-a000-000000000004');
    expect([...first, ...second].map((r) => r.uuid)).not.toContain('00000000-0000-4000-a000-000000000005');
    const third = await run({ start: 2 * H, end: 3 * H });
    expect(third.map((r) => r.uuid)).toContain('00000000-0000-4000-a000-000000000003');
    // Ordered by insertion time.
    const times = first.map((r) => r._inserted_at as string);
    expect([...times].sort()).toEqual(times);
  });

  it('gives rows in the exact model shape', async () => {
    const [row] = await run({ start: 0, end: H, includeEvents: ['$identify'] });
    const source = team1.find((e) => e.uuid === row.uuid)!;
    expect(row).toEqual({
      team_id: 1,
      uuid: source.uuid,
      event: '$identify',
      distinct_id: source.distinct_id,
      person_id: source.person_id,
      timestamp: source.timestamp,
      created_at: source.created_at,
      _inserted_at: source.inserted_at,
      properties: source.properties,
      person_properties: source.person_properties,
      set: JSON.stringify(JSON.parse(source.properties).$set),
      set_once: JSON.stringify(JSON.parse(source.properties).$set_once),
      elements_chain: source.elements_chain,
    });
    const other = (await run({ start: 0, end: H, includeEvents: ['$pageview'] }))[0];
    expect(other.set).toBeNull();
    expect(other.set_once).toBeNull();
  });

  it('reads each uuid once: duplicates in one interval and later re-inserts are dropped', async () => {
    const rows = [...(await run({ start: 0, end: H })), ...(await run({ start: H, end: 2 * H })), ...(await run({ start: 2 * H, end: 3 * H }))];
    const dup = rows.filter((r) => r.uuid === team1[5].uuid);
    expect(dup).toHaveLength(1);
    expect(new Set(rows.map((r) => r.uuid)).size).toBe(rows.length);
  });

  it('a backfill range followed by scheduled runs over the same period yields each uuid exactly once', async () => {
    // Backfill: [0, 90 min) as one range; scheduled hourly runs resume at 90 min.
    const backfill = await run({ start: 0, end: 1.5 * H });
    const scheduled = [...(await run({ start: 1.5 * H, end: 2.5 * H })), ...(await run({ start: 2.5 * H, end: 3.5 * H }))];
    const uuids = [...backfill, ...scheduled].map((r) => r.uuid as string);
    expect(new Set(uuids).size).toBe(uuids.length);
    expect(uuids.sort()).toEqual(expected(0, 3.5 * H));
    // A backfill split differently reads the same rows.
    const hourly = [...(await run({ start: 0, end: H })), ...(await run({ start: H, end: 1.5 * H }))].map((r) => r.uuid).sort();
    expect(hourly).toEqual(backfill.map((r) => r.uuid).sort());
  });

  it('never returns another team', async () => {
    const rows = await run({ start: 0, end: 4 * H });
    expect(rows.every((r) => r.team_id === 1)).toBe(true);
    const team2 = await collect(ctx.source.stream({ teamId: 2, model: 'events', interval: { start: at(0), end: at(4 * H) } }));
    expect(team2).toHaveLength(100);
    expect(team2.every((r) => r.team_id === 2)).toBe(true);
  });

  it('applies include and exclude event lists', async () => {
    const inc = await run({ start: 0, end: 4 * H, includeEvents: ['$pageview', 'purchase'] });
    expect(inc.map((r) => r.uuid).sort()).toEqual(expected(0, 4 * H, (e) => ['$pageview', 'purchase'].includes(e.event)));
    const exc = await run({ start: 0, end: 4 * H, excludeEvents: ['$pageview'] });
    expect(exc.map((r) => r.uuid).sort()).toEqual(expected(0, 4 * H, (e) => e.event !== '$pageview'));
  });

  it('applies property filters', async () => {
    const props = (e: SourceEvent) => JSON.parse(e.properties) as Record<string, unknown>;
    const cases: [SourceQuery['filters'], (e: SourceEvent) => boolean][] = [
      [[{ key: '$browser', operator: 'exact', value: 'Chrome' }], (e) => props(e).$browser === 'Chrome'],
      [[{ key: '$browser', operator: 'is_not', value: ['Chrome', 'Safari'] }], (e) => !['Chrome', 'Safari'].includes(props(e).$browser as string)],
      [[{ key: '$current_url', operator: 'icontains', value: 'PRICING' }], (e) => String(props(e).$current_url).includes('pricing')],
      [[{ key: '$current_url', operator: 'not_icontains', value: 'PRICING' }], (e) => !String(props(e).$current_url).includes('pricing')],
      [[{ key: '$current_url', operator: 'regex', value: '^https://example\\.com/(docs|blog)' }], (e) => /^https:\/\/example\.com\/(docs|blog)/.test(String(props(e).$current_url))],
      [[{ key: '$set', operator: 'is_set' }], (e) => '$set' in props(e)],
      [[{ key: 'utm_source', operator: 'is_not_set' }], (e) => !('utm_source' in props(e))],
      [[{ key: 'amount', operator: 'gt', value: 500 }, { key: 'amount', operator: 'lt', value: 800 }], (e) => (props(e).amount as number) > 500 && (props(e).amount as number) < 800],
      [[{ key: 'amount', operator: 'exact', value: 7 }], (e) => props(e).amount === 7],
      [[{ key: 'email', operator: 'icontains', value: 'USER-1-', type: 'person' }], (e) => e.person_properties.includes('user-1-')],
      [[{ key: "'); DROP TABLE x; --", operator: 'exact', value: "\\' OR 1=1 --" }], () => false],
    ];
    for (const [filters, keep] of cases) {
      const rows = await run({ start: 0, end: 4 * H, filters });
      expect({ filters, uuids: rows.map((r) => r.uuid).sort() }).toEqual({ filters, uuids: expected(0, 4 * H, keep) });
    }
    // A filter that matches nothing is not the same as no filter.
    expect(expected(0, 4 * H, (e) => props(e).$browser === 'Chrome').length).toBeGreaterThan(10);
  });

  it('rejects invalid queries with clear errors', async () => {
    await expect(ctx.source.count({ teamId: 1, model: 'events', interval: { start: at(H), end: at(0) } })).rejects.toThrow(/interval.start must be before interval.end/);
    await expect(
      ctx.source.count({ teamId: 1, model: 'events', interval: { start: at(0), end: at(H) }, filters: [{ key: 'a', operator: 'gt', value: 'x' }] }),
    ).rejects.toThrow(/filters\[0\]\.value must be a finite number/);
    await expect(ctx.source.count({ teamId: 1.5, model: 'events', interval: { start: at(0), end: at(H) } })).rejects.toThrow(/teamId/);
  });

  it('returns hostile values byte-identical', async () => {
    const hostile = hostileEvents({ seed: 99, teamId: 3, start: S });
    await insertEvents(ctx.client, { database: ctx.database }, hostile);
    const rows = await collect(ctx.source.stream({ teamId: 3, model: 'events', interval: { start: at(0), end: at(H) } }));
    expect(rows).toHaveLength(hostile.length);
    for (const e of hostile) {
      const row = rows.find((r) => r.uuid === e.uuid)!;
      expect(row.properties).toBe(e.properties);
      expect(row.person_properties).toBe(e.person_properties);
      expect(row.distinct_id).toBe(e.distinct_id);
      expect(row.elements_chain).toBe(e.elements_chain);
      expect(row.event).toBe(e.event);
      const set = JSON.parse(e.properties).$set;
      expect(row.set === null ? undefined : JSON.parse(row.set as string)).toEqual(set);
    }
    expect(rows.some((r) => (r.distinct_id as string).includes('\u0000'))).toBe(true);
    expect(rows.some((r) => (r.distinct_id as string).length === 100_000)).toBe(true);
  });

  it('estimates a wide range without deduplication', async () => {
    const est = await ctx.source.estimate({ teamId: 1, model: 'events', interval: { start: at(0), end: at(4 * H) } });
    expect(est.rows).toBe(expected(0, 4 * H).length + 2); // + the two extra copies of the duplicated uuid
    expect(est.bytes).toBeGreaterThan(est.rows * 500);
  });

  it('stops streaming and aborts the request when the signal fires', async () => {
    const ac = new AbortController();
    const q: SourceQuery = { teamId: 1, model: 'events', interval: { start: at(0), end: at(4 * H) } };
    let batches = 0;
    const read = async () => {
      for await (const _ of ctx.source.stream(q, { signal: ac.signal, batchSize: 10 })) {
        batches++;
        if (batches === 2) ac.abort();
      }
    };
    await expect(read()).rejects.toMatchObject({ name: 'AbortError' });
    expect(batches).toBe(2);
    const pre = new AbortController();
    pre.abort();
    await expect(collect(ctx.source.stream(q, { signal: pre.signal }))).rejects.toMatchObject({ name: 'AbortError' });
  });
});
