/**
 * BigQuery on the byte path through a real run (API -> worker -> ClickHouse writes bigquery-ndjson -> load jobs ->
 * MERGE), against the fake BigQuery: the run says which path it took, lands every row with the values an
 * OUTPORT_DATA_PATH=rows run lands, reports the same replacements per column and rule, and a replay adds nothing.
 */
import type { BigQueryConfig } from '../../plugins/bigquery/config';
import type { Row } from '../../src/sdk/models';
import { generateEvents, hostileEvents, insertEvents } from '../../src/source';
import { FakeBigQuery } from '../fakes/bigquery';
import { readTable } from '../conformance/fixtures/bigquery';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { backfillHours, exportTo, finishedRun, runMessages } from '../support/export-runs';
import { seedHostileHour } from '../support/hostile-hour';

const HOUR = 3_600_000;
jest.setTimeout(240_000);

describe('BigQuery on the byte path, through the worker', () => {
  let h: AppHarness;
  let fake: FakeBigQuery;
  const start = new Date('2026-04-01T00:00:00Z');
  let hostile: ReturnType<typeof hostileEvents>;
  const clean = new Date(start.getTime() + HOUR);
  beforeAll(async () => {
    [h, fake] = await Promise.all([startAppHarness(), FakeBigQuery.start()]);
    hostile = await seedHostileHour(h, start, 3000);
    await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: 93, teamId: h.teamId, count: 1500, start: clean, stepMicros: 2_000_000 }));
  }, 120_000);
  afterAll(async () => {
    delete process.env.OUTPORT_DATA_PATH;
    await h?.stop();
    await fake?.stop();
  });

  async function bigQueryExport(dataset: string, extra: Record<string, unknown> = {}) {
    await fake.createDataset(dataset);
    const config = {
      project_id: fake.projectId,
      dataset_id: dataset,
      credentials_json: JSON.stringify(fake.serviceAccountKey()),
      api_endpoint: fake.url,
      ...extra,
    };
    const { exportId } = await exportTo(h, 'bigquery', config, { name: dataset });
    return { config: config as BigQueryConfig, exportId };
  }

  async function runHour(exportId: string, hour = start) {
    const [runId] = await backfillHours(h, exportId, hour);
    const run = await finishedRun(h, runId, 150_000);
    return { run, messages: await runMessages(h, runId) };
  }

  const byUuid = (rows: Row[]) => [...rows].sort((a, b) => String(a.uuid).localeCompare(String(b.uuid)));
  const counts = (list: { column: string; rule: string; count: number }[]) => list.map(({ column, rule, count }) => `${rule}:${column}=${count}`).sort();

  it('lands the row path\'s rows and replacements through several load jobs, and a replay adds nothing', async () => {
    const bytes = await bigQueryExport('via_bytes', { load_job_size_mb: 0.5 });
    const uploadsBefore = fake.requests.filter((r) => r.kind === 'job.upload').length;
    const first = await runHour(bytes.exportId);
    expect(first.run).toMatchObject({ status: 'Completed' });
    const landed = Number(first.run.records_completed);
    expect(landed).toBe(3000 + hostile.length);
    expect(first.messages).toContain('Data path: bytes (ClickHouse writes bigquery-ndjson, none; the worker streams them).');
    expect(fake.requests.filter((r) => r.kind === 'job.upload' && r.status === 200).length - uploadsBefore).toBeGreaterThan(2);
    const viaBytes = await readTable(fake, bytes.config, 'events', 100_000);
    expect(viaBytes).toHaveLength(landed);

    process.env.OUTPORT_DATA_PATH = 'rows';
    let viaRows;
    try {
      const rows = await bigQueryExport('via_rows');
      viaRows = await runHour(rows.exportId);
      expect(viaRows.run.status).toBe('Completed');
      expect(Number(viaRows.run.records_completed)).toBe(landed);
      expect(viaRows.messages.some((m) => m.startsWith('Data path: bytes'))).toBe(false);
      expect(byUuid(viaBytes)).toEqual(byUuid(await readTable(fake, rows.config, 'events', 100_000)));
    } finally {
      delete process.env.OUTPORT_DATA_PATH;
    }
    // Invalid UTF-8 counted per column on both paths alike; json stored as text needs no other rule.
    expect(counts(first.run.replacements)).toEqual(counts(viaRows.run.replacements));
    expect(counts(first.run.replacements)).toEqual(['invalid_utf8:distinct_id=1', 'invalid_utf8:elements_chain=1', 'invalid_utf8:properties=2']);

    const replay = await runHour(bytes.exportId);
    expect(replay.run.status).toBe('Completed');
    expect(Number(replay.run.records_completed)).toBe(landed);
    expect(await readTable(fake, bytes.config, 'events', 100_000)).toHaveLength(landed);
    expect(await fake.listTables('via_bytes')).toEqual(['events']);
  });

  it('with use_json_type lands the row path\'s documents, and refuses a run holding a value that is not JSON as the row path does', async () => {
    const outcomes = [];
    for (const path of ['bytes', 'rows'] as const) {
      if (path === 'rows') process.env.OUTPORT_DATA_PATH = 'rows';
      try {
        const target = await bigQueryExport(`json_${path}`, { use_json_type: true });
        const good = await runHour(target.exportId, clean);
        const bad = await runHour(target.exportId, start);
        outcomes.push({ target, good, bad });
      } finally {
        delete process.env.OUTPORT_DATA_PATH;
      }
    }
    const [bytes, rows] = outcomes;
    expect(bytes.good.messages.some((m) => m.startsWith('Data path: bytes (ClickHouse writes bigquery-ndjson'))).toBe(true);
    for (const { good, bad } of outcomes) {
      expect(good.run.status).toBe('Completed');
      expect(Number(good.run.records_completed)).toBe(1500);
      expect(bad.run.status).toBe('Failed');
      expect(bad.run.latest_error).toMatch(/not valid JSON, which a BigQuery JSON column requires \(set use_json_type to false/);
    }
    const viaBytes = byUuid(await readTable(fake, bytes.target.config, 'events', 100_000));
    expect(viaBytes).toHaveLength(1500);
    expect(viaBytes).toEqual(byUuid(await readTable(fake, rows.target.config, 'events', 100_000)));
  });
});
