/**
 * The byte path's replacement counts (`EncodedRun.replacements()`) for events are taken over the rows of the uuids
 * the cheap raw-row scan suspects, not over the whole run: they must equal the counts over the whole run for every
 * wire format (the scan's condition is a superset of the rows any of the format's rules changes), and the row path's
 * counts, also when a uuid's copies differ and only the winning or only a losing copy is hostile.
 */
import { encodeJsonl, newEncodeStats } from '../../src/sdk/files';
import type { WireFormat } from '../../src/sdk/destination';
import { MODEL_SCHEMAS, type Row } from '../../src/sdk/models';
import { ReplacementCounter, type Replacement } from '../../src/sdk/replacements';
import { encodedRun } from '../../src/source/encoded';
import { generateEvents, hostileEvents, insertEvents, isoMicros, microsOf, type SourceEvent } from '../../src/source/generator';
import type { SourceQuery } from '../../src/source/source';
import { ValueRules } from '../../plugins/redshift/values';
import { Sanitizer } from '../../plugins/postgres/sanitize';
import { insertEventsWithRawBytes } from '../support/invalid-utf8';
import { createTestClickHouse } from './support/clickhouse';

jest.setTimeout(120_000);

const H = 3_600_000;
const hourOf = (hour: number) => new Date(Date.UTC(2024, 4, 1, hour));
const queryFor = (teamId: number, hour: number): SourceQuery => ({
  teamId,
  model: 'events',
  interval: { start: isoMicros(microsOf(hourOf(hour))), end: isoMicros(microsOf(hourOf(hour)) + H * 1000) },
});

const FORMATS: WireFormat[] = [
  { format: 'jsonl', compression: 'gzip' },
  { format: 'parquet', compression: 'zstd' },
  { format: 'pgcopy', compression: 'none' },
  { format: 'redshift-values', compression: 'none', properties: 'varchar' },
  { format: 'redshift-values', compression: 'none', properties: 'super' },
  { format: 'redshift-jsonl', compression: 'none', properties: 'super' },
  { format: 'bigquery-ndjson', compression: 'none', jsonColumns: 'text' } as WireFormat,
  { format: 'bigquery-ndjson', compression: 'none', jsonColumns: 'document' } as WireFormat,
  { format: 'snowflake-jsonl', compression: 'none' } as WireFormat,
];
const label = (f: WireFormat) => JSON.stringify(f);

/**
 * Valid JSON documents (for ClickHouse's parser too, mostly) whose `$set`/`$set_once` hold what re-serialization
 * might spell otherwise than the source text (escapes, non-BMP characters, slashes, control escapes, line
 * separators, numbers at the edges of double): set/set_once are extracted from `properties`, so a rule must never
 * fire on them when `properties` itself is not suspected.
 */
const FUZZED = 100;
const PIECES = ['a', 'é', '😀', '\\u00e9', '\\ud83d\\ude00', '\\/', '/', '\\"', '\\\\', '\\n', '\\t', '\\u0001', '\\u001f', '\\u2028', '\u2028', '\u007f', ' ', '{', '[', '\'', '$_$'];
const NUMBERS = ['0', '-0', '1.5', '1e308', '-1e-300', '123456789012345678', '9007199254740993', '0.1e1', '[1,[2,[3]]]', 'true', 'null', '""'];
function fuzzedDocument(n: number): string {
  let x = n * 2654435761 + 1;
  const next = (k: number) => ((x = (x * 1103515245 + 12345) % 2147483648), x % k);
  const text = () => Array.from({ length: 1 + next(12) }, () => PIECES[next(PIECES.length)]).join('');
  const value = () => (next(3) === 0 ? NUMBERS[next(NUMBERS.length)] : `"${text()}"`);
  const object = () => `{${Array.from({ length: 1 + next(4) }, (_, i) => `"${text()}${i}": ${next(4) === 0 ? `{"in": ${value()}}` : value()}`).join(', ')}}`;
  return `{"$set": ${object()}, "$set_once": ${object()}, "p": ${value()}}`;
}
const counts = (list: readonly Replacement[]) => list.filter((r) => r.count > 0).map((r) => `${r.rule}:${r.column}=${r.count}`).sort();

describe('byte path replacement counts over the suspected uuids', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  const big = 'é€𝄞x'.repeat(8_000); // 72,000 bytes: over Redshift's VARCHAR limit

  beforeAll(async () => {
    ctx = await createTestClickHouse('src_enc_repl');
    // Team 1: a run with a value for every rule of every format, among clean rows.
    const [a, b, c, d, e, f, g, i, j, k, l, m, n, ...clean] = generateEvents({ seed: 31, teamId: 1, count: 300, start: hourOf(0), stepMicros: 5_000_000 });
    await insertEventsWithRawBytes(ctx.client, ctx.database, [
      { ...a, distinct_id: 'bad <<FF>> bytes' },
      { ...b, elements_chain: 'chain <<C328>>', properties: '{"a":"<<FEFF>>", "$set": {"k": "v<<80>>"}}' },
    ]);
    await insertEvents(ctx.client, { database: ctx.database }, [
      { ...c, distinct_id: 'nul\u0000inside', elements_chain: `${big}\u0000` },
      { ...d, properties: '{"lone":"\\ud800", "$set": {"nul": "\\u0000", "s": "a/b"}, "$set_once": {"x": "\\uDC00"}}' },
      { ...e, properties: `{not json \u2028 \u001f '\\ ${big}` },
      { ...f, properties: JSON.stringify({ big, $set: { big } }), person_properties: '{"a": 1} trailing' },
      { ...g, properties: '{"n": 123456789012345678901234567890, "f": 1e400, "$set": {"e": 1e-5000, "z": 0e4000}}' },
      { ...i, properties: '"just a string"', person_properties: 'plain text' },
      { ...j, event: `long ${'e'.repeat(70_000)}`, distinct_id: `long ${'d'.repeat(70_000)}` },
      { ...k, properties: JSON.stringify({ $set: { slashes: '/'.repeat(40_000) } }) },
      { ...l, properties: `{"deep": ${'['.repeat(1_100)}${']'.repeat(1_100)}}` },
      { ...m, properties: '{"wrapped":\r\n "lines", "$set_once": {"t": "\\t\\n"}}' },
      // Numbers ClickHouse re-spells longer when it extracts set/set_once (1e20 -> 21 digits, beyond 64 bits): set is
      // over Redshift's limit though properties, under it, is not suspected; and a document JSON.parse accepts.
      { ...n, properties: `{"$set": {"n": [${Array(6_000).fill('1e20').join(',')}]}, "$set_once": {"f": [${Array(6_000).fill('5e-1').join(',')}]}}` },
      ...clean.slice(0, FUZZED),
      ...clean.slice(FUZZED).map((event, n) => ({ ...event, properties: fuzzedDocument(n) })),
      ...hostileEvents({ seed: 32, teamId: 1, start: new Date(hourOf(0).getTime() + 30 * 60_000) }),
    ]);
  }, 120_000);
  afterAll(() => ctx?.drop());

  /** The whole run's counts: the same aggregate, over every row of the run's query. */
  async function wholeRunCounts(q: SourceQuery, format: WireFormat): Promise<string[]> {
    const { sql, params, settings } = ctx.source.build(q, 'rows', { withoutUtf8Rule: true });
    const run = encodedRun({ client: ctx.client, rowsSql: sql, params: params.values, settings, schema: MODEL_SCHEMAS.events, format });
    return counts(await run.replacements());
  }

  /** The row path's counts of the destination each format serves (the host's invalid-UTF-8 rule plus the plugin's rules). */
  async function rowPathCounts(q: SourceQuery, format: WireFormat): Promise<string[]> {
    const source = new ReplacementCounter();
    const rows: Row[] = [];
    for await (const batch of ctx.source.stream(q, { replacements: source })) rows.push(...batch.rows);
    const schema = MODEL_SCHEMAS.events;
    const plugin = new ReplacementCounter();
    if (format.format === 'jsonl') {
      const stats = newEncodeStats();
      for await (const _ of encodeJsonl((async function* () { yield { rows, sizeBytes: 0 }; })(), schema, 'none', stats)) void _;
      plugin.addAll(stats.replacements.list());
    } else if (format.format === 'pgcopy') {
      const sanitizer = new Sanitizer();
      for (const row of rows) {
        for (const c of schema.columns) {
          const v = row[c.name];
          if (typeof v !== 'string') continue;
          if (c.type === 'string') sanitizer.text(v, c.name);
          else if (c.type === 'json') sanitizer.json(v, c.name);
        }
      }
      plugin.addAll(sanitizer.replacements.list());
    } else if (format.format === 'redshift-values') {
      const rules = new ValueRules();
      for (const row of rows) for (const c of schema.columns) rules.apply(c, row[c.name] as never);
      plugin.addAll(rules.replacements.list());
    } else if (format.format !== 'parquet') {
      throw new Error(`no row path counted here for ${format.format}`);
    }
    return counts([...source.list(), ...plugin.list()]);
  }

  for (const format of FORMATS) {
    it(`${label(format)}: the counts over the suspected uuids are the whole run's`, async () => {
      const q = queryFor(1, 0);
      const run = ctx.source.encodedRun(q, format);
      const whole = await wholeRunCounts(q, format);
      expect(counts(await run.replacements())).toEqual(whole);
      expect(whole.length).toBeGreaterThan(1);
    });
  }

  it('redshift: a run whose only hostile value is text that is not JSON counts it, as the row path does', async () => {
    const [only, ...clean] = generateEvents({ seed: 41, teamId: 2, count: 20, start: hourOf(2), stepMicros: 1_000_000 });
    await insertEvents(ctx.client, { database: ctx.database }, [{ ...only, properties: '{"unterminated": ' }, ...clean]);
    const q = queryFor(2, 2);
    for (const format of FORMATS.filter((f) => f.format.startsWith('redshift'))) {
      const expected = ['invalid_json_as_string:properties=1'];
      if (format.format === 'redshift-values') expect(await rowPathCounts(q, format)).toEqual(expected);
      expect([label(format), counts(await ctx.source.encodedRun(q, format).replacements())]).toEqual([label(format), expected]);
    }
  });

  it('a uuid whose winning copy is clean and a losing copy hostile counts nothing; the reverse counts the winner', async () => {
    const start = hourOf(4);
    const [winnerClean, winnerHostile, ...clean] = generateEvents({ seed: 51, teamId: 3, count: 30, start, stepMicros: 1_000_000 });
    const at = (minutes: number) => isoMicros(microsOf(new Date(start.getTime() + minutes * 60_000)));
    const copies = (e: SourceEvent, first: Partial<SourceEvent>, later: Partial<SourceEvent>): SourceEvent[] => [
      { ...e, ...first, inserted_at: at(10) },
      { ...e, ...later, inserted_at: at(20) },
    ];
    const hostile = { distinct_id: 'nul\u0000copy', properties: '{"lone":"\\ud800", "nul":"\\u0000"', person_properties: 'not json' };
    await insertEvents(ctx.client, { database: ctx.database }, [
      ...copies(winnerClean, {}, hostile),
      ...copies(winnerHostile, hostile, {}),
      ...clean,
    ]);
    // And invalid UTF-8 in a losing copy only.
    await insertEventsWithRawBytes(ctx.client, ctx.database, [{ ...winnerClean, elements_chain: 'loser <<FF>>', inserted_at: at(30) }]);
    const q = queryFor(3, 4);
    for (const format of FORMATS.filter((f) => ['jsonl', 'parquet', 'pgcopy', 'redshift-values'].includes(f.format))) {
      const expected = await rowPathCounts(q, format);
      expect([label(format), counts(await ctx.source.encodedRun(q, format).replacements())]).toEqual([label(format), expected]);
    }
    // The hostile winner was counted (by the jsonl rules: invalid JSON in both json columns), the losers were not.
    expect(await rowPathCounts(q, FORMATS[0])).toEqual(['invalid_json_as_string:person_properties=1', 'invalid_json_as_string:properties=1']);
  });
});
