/**
 * Postgres on the byte path through a real run (API -> worker -> ClickHouse writes COPY text -> COPY): on hostile
 * seeded data (NUL, `\u0000` and lone surrogate escapes, invalid UTF-8, invalid json, json deeper than JSONB's
 * limit, numbers outside numeric, `\.` lines) it lands exactly the rows and values a `OUTPORT_DATA_PATH=rows` run
 * lands, with the same replacement counts; a replay and a second export into the same table leave one copy.
 */
import { MODEL_SCHEMAS, type Row } from '../../src/sdk';
import { generateEvents, hostileEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { insertEventsWithRawBytes } from '../support/invalid-utf8';
import { quote } from '../support/pg-destination';
import { runHourThroughApi } from '../support/export-runs';

const HOUR = 3_600_000;
jest.setTimeout(240_000);

describe('Postgres on the byte path, through the worker', () => {
  let h: AppHarness;
  const start = new Date('2026-04-03T00:00:00Z');
  let seeded = 0;
  beforeAll(async () => {
    h = await startAppHarness();
    const plain = generateEvents({ seed: 91, teamId: h.teamId, count: 2000, start, stepMicros: 1_000_000 });
    const hostile = hostileEvents({ seed: 92, teamId: h.teamId, start: new Date(start.getTime() + 60_000) });
    const [a, b, c, d, e, f, g, i, j] = generateEvents({ seed: 93, teamId: h.teamId, count: 9, start: new Date(start.getTime() + 120_000), stepMicros: 1_000_000 });
    await insertEvents(h.ch, { database: h.chDatabase }, [
      ...plain,
      ...hostile,
      { ...a, event: '\\.', distinct_id: 'a\n\\.\nb', properties: '{"nul escape": "x\\u0000y", "lone": "\\ud800", "pair": "\\ud83d\\ude00"}' },
      { ...b, properties: '{"deep": ' + '['.repeat(1010) + '1' + ']'.repeat(1010) + '}' },
      { ...c, properties: '{"deep": ' + '['.repeat(1500) + '1' + ']'.repeat(1500) + '}', person_properties: '{"n": 1e200000}' },
      { ...d, properties: '{"n": 1e400, "m": -2.5E-300}', elements_chain: 'back\\slash\ttab\r\n' },
      { ...e, properties: "{'not': 'json'}", person_properties: 'plain text \u0000 with NUL' },
      { ...f, properties: '{"escaped backslash": "\\\\ud800 \\\\u0000"}' },
    ]);
    await insertEventsWithRawBytes(h.ch, h.chDatabase, [
      { ...g, distinct_id: 'bad <<FF>> bytes' },
      { ...i, elements_chain: 'chain <<C328>>', properties: '{"a":"<<FEFF>>", "nul": "\\u0000"}' },
      { ...j, properties: '{"a":"<<EDA080>>"}' },
    ]);
    seeded = plain.length + hostile.length + 9;
    for (const s of ['via_bytes', 'via_rows']) await h.destinationQuery(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  }, 120_000);
  afterAll(async () => {
    delete process.env.OUTPORT_DATA_PATH;
    await h?.stop();
  });

  async function exportTo(schema: string): Promise<string> {
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`,
      { c: { ...h.destination, schema, ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "pg", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    return createBatchExport.id;
  }

  const runHour = (exportId: string) => runHourThroughApi(h, exportId, start, 180_000);

  /** The table as text, value by value (json as JSONB's text, timestamps with microseconds). */
  async function table(schema: string): Promise<Row[]> {
    const cols = MODEL_SCHEMAS.events.columns.map((c) => `${quote(c.name)}::text AS ${quote(c.name)}`).join(', ');
    return h.destinationQuery<Row>(`SELECT ${cols} FROM ${schema}.events ORDER BY uuid`);
  }
  const counts = (list: { column: string; rule: string; count: number }[]) => list.map(({ column, rule, count }) => `${rule}:${column}=${count}`).sort();

  it('lands the row path\'s rows and values with the same replacement counts; a replay and a second export into the table keep one copy', async () => {
    const bytesExport = await exportTo('via_bytes');
    const bytes = await runHour(bytesExport);
    expect(bytes.run).toMatchObject({ status: 'COMPLETED', recordsCompleted: seeded });
    expect(bytes.messages).toContainEqual(expect.stringMatching(/^Data path: bytes \(ClickHouse writes pgcopy/));
    // The source's keys query (the run's deduplicated keys) feeds the keys-first load.
    expect(bytes.messages).toContainEqual(expect.stringMatching(/^Completed: .*"loadStrategy":"keys-first"/));

    process.env.OUTPORT_DATA_PATH = 'rows';
    let rows;
    try {
      rows = await runHour(await exportTo('via_rows'));
    } finally {
      delete process.env.OUTPORT_DATA_PATH;
    }
    expect(rows.run).toMatchObject({ status: 'COMPLETED', recordsCompleted: seeded });
    expect(rows.messages.some((m) => m.startsWith('Data path: bytes'))).toBe(false);

    const landed = await table('via_bytes');
    expect(landed).toHaveLength(seeded);
    expect(landed).toEqual(await table('via_rows'));
    expect(counts(bytes.run.replacements)).toEqual(counts(rows.run.replacements));
    // Every rule of the destination and the source's is among them: the comparison is not vacuous.
    expect(new Set(bytes.run.replacements.map((r: { rule: string }) => r.rule))).toEqual(
      new Set(['invalid_utf8', 'nul', 'lone_surrogate', 'invalid_json_as_string', 'json_too_deep_as_string', 'json_number_out_of_range_as_string']),
    );

    const replay = await runHour(bytesExport);
    expect(replay.run).toMatchObject({ status: 'COMPLETED', recordsCompleted: seeded });
    expect(replay.messages).toContainEqual(expect.stringMatching(/^Completed: .*"loadStrategy":"keys-first","rowsStaged":\d+,"rowsInsertedOrUpdated":\d+,"rowsReplaced":[1-9]/));
    const second = await runHour(await exportTo('via_bytes'));
    expect(second.run).toMatchObject({ status: 'COMPLETED', recordsCompleted: seeded });
    expect(await table('via_bytes')).toEqual(landed);
  });
});
