/**
 * Table formats (pgcopy, redshift-*, bigquery-ndjson) skip the sort that picks one copy per uuid when the run's window
 * holds one copy of each: the same rows, streamed as ClickHouse reads them. A window with copies keeps the sort (the
 * earliest copy wins, as on the row path), and a copy that arrives after the check fails the stream's count instead of
 * landing twice. The queries ClickHouse is sent are recorded by wrapping the real client's `exec` (an observer: every
 * call still goes to the real engine).
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { WireFormat } from '../../src/sdk/destination';
import { MODEL_SCHEMAS } from '../../src/sdk/models';
import { parseSourceConfig } from '../../src/source/config';
import { encodedSelect } from '../../src/source/encoded';
import { generateEvents, insertEvents, isoMicros, microsOf } from '../../src/source/generator';
import { ClickHouseSource, type SourceQuery } from '../../src/source/source';
import { clickHouseUrl, createTestClickHouse } from './support/clickhouse';

const S = new Date('2024-05-01T00:00:00Z');
const H = 3_600_000_000;
const window = (hour: number) => ({ start: isoMicros(microsOf(S) + hour * H), end: isoMicros(microsOf(S) + (hour + 1) * H) });
const FORMATS: WireFormat[] = [
  { format: 'pgcopy', compression: 'none' },
  { format: 'bigquery-ndjson', compression: 'none', jsonColumns: 'document' },
  { format: 'redshift-values', compression: 'none', properties: 'super' },
];

async function lines(chunks: AsyncIterable<Uint8Array>): Promise<string[]> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  const text = Buffer.concat(parts).toString('utf8');
  return text.slice(0, -1).split('\n');
}

describe('byte path: table formats stream unsorted when every key has one copy', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  let observed: ClickHouseClient;
  let source: ClickHouseSource;
  const sent: string[] = [];

  beforeAll(async () => {
    ctx = await createTestClickHouse('src_unordered');
    await ctx.client.command({ query: `SYSTEM STOP MERGES ${ctx.database}.events` });
    observed = createClient({ url: clickHouseUrl(), request_timeout: 120_000 });
    const exec = observed.exec.bind(observed);
    observed.exec = ((params: Parameters<ClickHouseClient['exec']>[0]) => {
      sent.push(params.query);
      return exec(params);
    }) as ClickHouseClient['exec'];
    source = new ClickHouseSource(observed, parseSourceConfig({ url: clickHouseUrl(), database: ctx.database }));
    // Hour 0: 150 events, one copy each. Hour 1: 100 events, and a second, later copy of two of them (new properties).
    await insertEvents(ctx.client, { database: ctx.database }, generateEvents({ seed: 31, count: 150, teamId: 1, start: S, stepMicros: 20_000_000 }));
    const second = generateEvents({ seed: 32, count: 100, teamId: 1, start: new Date(S.getTime() + H / 1000), stepMicros: 20_000_000 });
    await insertEvents(ctx.client, { database: ctx.database }, second);
    const later = (e: (typeof second)[number]) => ({ ...e, properties: JSON.stringify({ copy: 'later' }), inserted_at: isoMicros(microsOf(e.inserted_at!) + 60_000_000) });
    // Separate inserts: one inserted block would collapse equal keys.
    for (const e of [second[3], second[40]]) await insertEvents(ctx.client, { database: ctx.database }, [later(e)]);
  });
  afterAll(async () => {
    await observed.close();
    await ctx.drop();
  });

  const query = (hour: number): SourceQuery => ({ teamId: 1, model: 'events', interval: window(hour) });

  /** The format's lines from the sorted query (the row path's order and dedup), for comparison. */
  async function sortedLines(q: SourceQuery, format: WireFormat): Promise<string[]> {
    const { sql, params, settings } = source.build(q, 'rows', { withoutUtf8Rule: true });
    const encoded = encodedSelect(sql, MODEL_SCHEMAS.events, format);
    const rs = await ctx.client.exec({ query: encoded.sql, query_params: params.values, clickhouse_settings: { ...settings, ...encoded.settings } });
    return lines(rs.stream as AsyncIterable<Uint8Array>);
  }

  for (const format of FORMATS) {
    it(`${format.format}: a window with one copy of each key streams without the dedup sort, the same lines`, async () => {
      const q = query(0);
      sent.length = 0;
      const run = source.encodedRun(q, format, { expectedRows: await source.count(q), unsortedFromRows: 0 });
      const part = await run.open();
      const got = await lines(part.chunks);
      expect((await part.finished()).rows).toBe(150);
      expect(sent.some((sql) => /LIMIT 1 BY/.test(sql))).toBe(false);
      expect(got.sort()).toEqual((await sortedLines(q, format)).sort());
    });

    it(`${format.format}: a window holding two copies of a key keeps the sort: one line per key, the earliest copy`, async () => {
      const q = query(1);
      sent.length = 0;
      const run = source.encodedRun(q, format, { expectedRows: await source.count(q), unsortedFromRows: 0 });
      const part = await run.open();
      const got = await lines(part.chunks);
      expect((await part.finished()).rows).toBe(100);
      expect(sent.some((sql) => /LIMIT 1 BY/.test(sql))).toBe(true);
      expect(got.some((l) => l.includes('later'))).toBe(false);
      expect(got).toEqual(await sortedLines(q, format));
    });
  }

  it('a run counted below unsortedFromRows keeps the sort (the check would cost more than it saves)', async () => {
    const q = query(0);
    sent.length = 0;
    const run = source.encodedRun(q, FORMATS[0], { expectedRows: await source.count(q), unsortedFromRows: 151 });
    const part = await run.open();
    await lines(part.chunks);
    expect((await part.finished()).rows).toBe(150);
    expect(sent.some((sql) => /LIMIT 1 BY/.test(sql))).toBe(true);
  });

  it('a copy that arrives after the check fails the stream instead of landing twice', async () => {
    const start = new Date(S.getTime() + (5 * H) / 1000);
    const events = generateEvents({ seed: 33, count: 50, teamId: 1, start, stepMicros: 20_000_000 });
    await insertEvents(ctx.client, { database: ctx.database }, events);
    const q = query(5);
    const run = source.encodedRun(q, FORMATS[0], { expectedRows: await source.count(q), unsortedFromRows: 0 });
    const first = await run.open(); // the check runs here: one copy of each key
    await lines(first.chunks);
    expect((await first.finished()).rows).toBe(50);
    await insertEvents(ctx.client, { database: ctx.database }, [{ ...events[7], properties: '{"copy":"late"}', inserted_at: isoMicros(microsOf(events[7].inserted_at!) + 1) }]);
    const again = await run.open();
    await lines(again.chunks);
    await expect(again.finished()).rejects.toThrow(/holds 51 rows, but the run counted 50: the data changed while it was read/);
  });
});
