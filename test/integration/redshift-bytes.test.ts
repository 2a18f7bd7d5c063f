/**
 * Redshift insert mode on the byte path through a real run (API -> worker -> ClickHouse writes the row literals ->
 * INSERT statements into the Postgres stand-in), on hostile seeded data (NUL, invalid UTF-8, invalid JSON, values
 * over the 65,535-byte VARCHAR limit): the run says it took the byte path, lands every row with the values an
 * `OUTPORT_DATA_PATH=rows` run lands, with the same replacement counts per column and rule; a replay leaves one copy.
 */
import type { Row } from '../../src/sdk';
import { generateEvents, hostileEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { insertEventsWithRawBytes } from '../support/invalid-utf8';
import { quote, readTable } from '../support/pg-destination';
import { runHourThroughApi } from '../support/export-runs';

const HOUR = 3_600_000;
jest.setTimeout(240_000);

describe('Redshift on the byte path, through the worker', () => {
  let h: AppHarness;
  const start = new Date('2026-05-01T00:00:00Z');
  const big = 'é€𝄞x'.repeat(8_000); // 72,000 bytes: over the VARCHAR limit
  beforeAll(async () => {
    h = await startAppHarness();
    const [a, b, c, d, e, f, ...clean] = generateEvents({ seed: 91, teamId: h.teamId, count: 2_000, start, stepMicros: 1_000_000 });
    await insertEventsWithRawBytes(h.ch, h.chDatabase, [
      { ...a, distinct_id: 'bad <<FF>> bytes' },
      { ...b, elements_chain: 'chain <<C328>>', properties: '{"a":"<<FEFF>>"}' },
    ]);
    await insertEvents(h.ch, { database: h.chDatabase }, [
      { ...c, distinct_id: 'nul\u0000inside', elements_chain: `${big}\u0000` },
      { ...d, properties: '{"lone":"\\ud800", "sep": "\u2028", "bs": "\\\\ \' \\n"}' },
      { ...e, properties: `{not json \u2028 \u001f '\\ ${big}` },
      { ...f, properties: JSON.stringify({ big }), person_properties: '{"a": 1} trailing' },
      ...clean,
      ...hostileEvents({ seed: 92, teamId: h.teamId, start: new Date(start.getTime() + 60_000) }),
    ]);
  }, 120_000);
  afterAll(async () => {
    delete process.env.OUTPORT_DATA_PATH;
    await h?.stop();
  });

  async function exportInto(schema: string): Promise<{ destinationId: string; exportId: string }> {
    await h.destinationQuery(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`);
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "redshift", type: "redshift", config: $c }) { id } }`,
      { c: { ...h.destination, schema, ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "redshift", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    return { destinationId: createDestination.id, exportId: createBatchExport.id };
  }

  const runHour = (exportId: string) => runHourThroughApi(h, exportId, start, 120_000);

  const counts = (list: { column: string; rule: string; count: number }[]) => list.map(({ column, rule, count }) => `${rule}:${column}=${count}`).sort();
  const byUuid = (rows: Row[]) => [...rows].sort((x, y) => (String(x.uuid) < String(y.uuid) ? -1 : 1));
  const read = async (schema: string) => {
    const d = h.destination;
    const url = `postgres://${encodeURIComponent(d.user)}:${encodeURIComponent(d.password)}@${d.host}:${d.port}/${d.database}`;
    return byUuid(await readTable(url, schema, 'events', 'events'));
  };

  it('lands the row path\'s rows and replacement counts, says which path it took, and a replay leaves one copy', async () => {
    const bytes = await exportInto('rs_bytes');
    const first = await runHour(bytes.exportId);
    const total = 2_000 + hostileEvents({ seed: 92, teamId: h.teamId, start }).length;
    expect(first.run).toMatchObject({ status: 'COMPLETED', recordsCompleted: total });
    expect(first.messages.some((m) => m.startsWith('Data path: bytes (ClickHouse writes redshift-values'))).toBe(true);

    process.env.OUTPORT_DATA_PATH = 'rows';
    let viaRows;
    try {
      const rows = await exportInto('rs_rows');
      viaRows = await runHour(rows.exportId);
    } finally {
      delete process.env.OUTPORT_DATA_PATH;
    }
    expect(viaRows.run).toMatchObject({ status: 'COMPLETED', recordsCompleted: total });
    expect(viaRows.messages.some((m) => m.startsWith('Data path: bytes'))).toBe(false);

    const a = await read('rs_rows');
    const b = await read('rs_bytes');
    expect(b).toHaveLength(total);
    for (let i = 0; i < a.length; i++) expect(b[i]).toEqual(a[i]);
    const rules = counts(first.run.replacements);
    expect(rules).toEqual(counts(viaRows.run.replacements));
    for (const rule of ['invalid_utf8', 'nul', 'invalid_json_as_string', 'text_truncated', 'json_truncated_marker']) {
      expect(rules.some((r) => r.startsWith(`${rule}:`))).toBe(true);
    }

    const replay = await runHour(bytes.exportId);
    expect(replay.run).toMatchObject({ status: 'COMPLETED', recordsCompleted: total });
    expect(await read('rs_bytes')).toEqual(b);
  });

  it('counts text that is not JSON when it is the run\'s only hostile value, as the row path does', async () => {
    // Valid UTF-8, no NUL, short: nothing else in the run makes the byte path count its replacements.
    const hour = new Date(start.getTime() + 3 * HOUR);
    const [only, ...clean] = generateEvents({ seed: 93, teamId: h.teamId, count: 50, start: hour, stepMicros: 1_000_000 });
    await insertEvents(h.ch, { database: h.chDatabase }, [{ ...only, properties: '{"unterminated": ' }, ...clean]);
    const viaBytes = await runHourThroughApi(h, (await exportInto('rs_only_json_bytes')).exportId, hour, 120_000);
    process.env.OUTPORT_DATA_PATH = 'rows';
    let viaRows;
    try {
      viaRows = await runHourThroughApi(h, (await exportInto('rs_only_json_rows')).exportId, hour, 120_000);
    } finally {
      delete process.env.OUTPORT_DATA_PATH;
    }
    expect(viaBytes.messages.some((m) => m.startsWith('Data path: bytes (ClickHouse writes redshift-values'))).toBe(true);
    expect(counts(viaRows.run.replacements)).toEqual(['invalid_json_as_string:properties=1']);
    expect(counts(viaBytes.run.replacements)).toEqual(counts(viaRows.run.replacements));
  });
});
