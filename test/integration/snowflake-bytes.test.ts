/**
 * Snowflake on the byte path through a real run (API -> worker -> ClickHouse writes the gzip JSON Lines -> PUT ->
 * COPY -> MERGE on the fake Snowflake): the run says which path it took, lands every row with the values the row
 * path (`OUTPORT_DATA_PATH=rows`) lands, reports the same replacements per column, and a replay adds nothing.
 */
import type { hostileEvents } from '../../src/source';
import type { Row } from '../../src/sdk/models';
import type { SnowflakeConfig } from '../../plugins/snowflake/config';
import type { FakeSnowflake } from '../fakes/snowflake/server';
import { freshConfig, readRows, startFake } from '../conformance/fixtures/snowflake';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { backfillHours, exportTo, finishedRun, runMessages } from '../support/export-runs';
import { seedHostileHour } from '../support/hostile-hour';

jest.setTimeout(240_000);

describe('Snowflake on the byte path, through the worker', () => {
  let h: AppHarness;
  let fake: FakeSnowflake;
  let hostile: ReturnType<typeof hostileEvents>;
  const start = new Date('2026-05-01T00:00:00Z');
  beforeAll(async () => {
    [h, fake] = await Promise.all([startAppHarness(), startFake()]);
    hostile = await seedHostileHour(h, start, 2000);
  }, 120_000);
  afterAll(async () => {
    delete process.env.OUTPORT_DATA_PATH;
    await h?.stop();
    await fake?.stop();
  });

  async function runHour(exportId: string) {
    const [runId] = await backfillHours(h, exportId, start);
    const row = await finishedRun(h, runId, 120_000);
    const run = { status: row.status, latestError: row.latest_error, recordsRead: Number(row.records_read), recordsCompleted: Number(row.records_completed), replacements: row.replacements };
    return { run, messages: await runMessages(h, runId) };
  }

  const byUuid = (rows: Row[]) => [...rows].sort((x, y) => String(x.uuid).localeCompare(String(y.uuid)));
  const counts = (list: { column: string; rule: string; count: number }[]) => list.map(({ column, rule, count }) => `${rule}:${column}=${count}`).sort();

  it('lands what the row path lands, value by value, with the same replacements; a replay adds nothing', async () => {
    const total = 2000 + hostile.length;
    const bytesConfig: SnowflakeConfig = await freshConfig(fake);
    const bytes = await exportTo(h, 'snowflake', bytesConfig as unknown as Record<string, unknown>);
    const first = await runHour(bytes.exportId);
    expect(first.run).toMatchObject({ status: 'Completed', recordsRead: total, recordsCompleted: total });
    expect(first.messages.some((m) => m.startsWith('Data path: bytes (ClickHouse writes snowflake-jsonl, gzip'))).toBe(true);
    const viaBytes = byUuid(await readRows(fake, bytesConfig, 'events'));
    expect(viaBytes).toHaveLength(total);

    let viaRows: Row[];
    let rowPath: Awaited<ReturnType<typeof runHour>>;
    process.env.OUTPORT_DATA_PATH = 'rows';
    try {
      const rowsConfig = await freshConfig(fake);
      const rows = await exportTo(h, 'snowflake', rowsConfig as unknown as Record<string, unknown>);
      rowPath = await runHour(rows.exportId);
      expect(rowPath.run).toMatchObject({ status: 'Completed', recordsCompleted: total });
      expect(rowPath.messages.some((m) => m.startsWith('Data path: bytes'))).toBe(false);
      viaRows = byUuid(await readRows(fake, rowsConfig, 'events'));
    } finally {
      delete process.env.OUTPORT_DATA_PATH;
    }
    expect(viaRows).toHaveLength(total);
    for (let i = 0; i < total; i++) expect(viaBytes[i]).toEqual(viaRows[i]);
    expect(counts(first.run.replacements)).toEqual(counts(rowPath.run.replacements));
    expect(counts(first.run.replacements)).toEqual(expect.arrayContaining([
      'invalid_utf8:distinct_id=1', 'invalid_utf8:elements_chain=1', 'invalid_utf8:properties=2',
      'invalid_json_as_string:properties=3', 'invalid_json_as_string:person_properties=1',
    ]));

    const replay = await runHour(bytes.exportId);
    expect(replay.run).toMatchObject({ status: 'Completed', recordsCompleted: total });
    expect(byUuid(await readRows(fake, bytesConfig, 'events'))).toEqual(viaBytes);
  });
});
