/**
 * A backfill of 48 hourly intervals through the real API, worker, ClickHouse source and Postgres destination:
 * every source row lands exactly once (uuids compared), progress is seen live over a subscription, and a second,
 * overlapping backfill plus a retry add nothing.
 */
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const START = new Date('2026-05-01T00:00:00Z');
const HOUR = 3_600_000;

describe('backfill: 48 hourly intervals into Postgres', () => {
  let h: AppHarness;
  let exportId: string;
  let sourceUuids: string[];

  beforeAll(async () => {
    h = await startAppHarness();
    const events = generateEvents({ seed: 11, teamId: h.teamId, count: 4800, start: START, stepMicros: 36_000_000 });
    // Another team's rows in the same interval must not leak into this export.
    const other = generateEvents({ seed: 12, teamId: h.teamId + 1000, count: 300, start: START, stepMicros: 576_000_000 });
    await insertEvents(h.ch, { database: h.chDatabase }, [...events, ...other]);
    sourceUuids = [...new Set(events.map((e) => e.uuid))].sort();
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($config: JSONObject!) { createDestination(input: { name: "warehouse", type: "postgres", config: $config }) { id } }`,
      { config: { ...h.destination, schema: 'public', ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "events", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    exportId = createBatchExport.id;
  }, 120_000);
  afterAll(() => h?.stop());

  const landedUuids = async () =>
    (await h.destinationQuery<{ uuid: string }>(`SELECT uuid::text AS uuid FROM events ORDER BY uuid`)).map((r) => r.uuid);

  it('lands exactly the source rows, with live progress over the subscription', async () => {
    const { estimateBackfill } = await h.gql<{ estimateBackfill: { runs: number; rows: number } }>(
      `query($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { estimateBackfill(batchExportId: $e, startAt: $s, endAt: $t) { runs rows } }`,
      { e: exportId, s: START.toISOString(), t: new Date(START.getTime() + 48 * HOUR).toISOString() },
    );
    expect(estimateBackfill.runs).toBe(48);
    expect(estimateBackfill.rows).toBeGreaterThanOrEqual(4700); // ClickHouse estimates; the exact count comes per run

    const { createBackfill } = await h.gql<{ createBackfill: { id: string; progress: { totalRuns: number } } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id progress { totalRuns } } }`,
      { e: exportId, s: START.toISOString(), t: new Date(START.getTime() + 48 * HOUR).toISOString() },
    );
    expect(createBackfill.progress.totalRuns).toBe(48);

    const seen: { finishedRuns: number; totalRuns: number }[] = [];
    const ws = h.ws();
    const done = new Promise<void>((resolve, reject) => {
      ws.subscribe(
        { query: `subscription($b: ID!) { backfillProgress(backfillId: $b) { status progress { totalRuns finishedRuns failedRuns recordsCompleted } } }`, variables: { b: createBackfill.id } },
        {
          next: (r) => {
            const p = (r.data as { backfillProgress: { status: string; progress: { totalRuns: number; finishedRuns: number } } }).backfillProgress;
            seen.push(p.progress);
            if (p.status === 'COMPLETED') resolve();
            if (p.status === 'FAILED') reject(new Error('backfill failed'));
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    await h.waitFor('backfill to complete', async () => {
      const { backfill } = await h.gql<{ backfill: { status: string } }>(`query($b: ID!) { backfill(id: $b) { status } }`, { b: createBackfill.id });
      return backfill.status === 'COMPLETED' || backfill.status === 'FAILED';
    }, 120_000);
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error('no COMPLETED event on the subscription')), 5000))]);
    // Live: intermediate progress was published, not only the final state.
    const partial = seen.filter((p) => p.finishedRuns > 0 && p.finishedRuns < 48);
    expect(partial.length).toBeGreaterThan(0);

    expect(await landedUuids()).toEqual(sourceUuids);
    const runs = await h.app.dataSource.query(
      `SELECT status, records_read::int AS read, records_completed::int AS landed FROM runs WHERE backfill_id = $1`,
      [createBackfill.id],
    );
    expect(runs).toHaveLength(48);
    expect(runs.every((r: { status: string; read: number; landed: number }) => r.status === 'Completed' && r.read === r.landed)).toBe(true);
    expect(runs.reduce((n: number, r: { landed: number }) => n + r.landed, 0)).toBe(sourceUuids.length);
  }, 180_000);

  it('an overlapping backfill and a retried run add no duplicates', async () => {
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: exportId, s: new Date(START.getTime() + 40 * HOUR).toISOString(), t: new Date(START.getTime() + 48 * HOUR).toISOString() },
    );
    await h.waitFor('overlapping backfill', async () => {
      const { backfill } = await h.gql<{ backfill: { status: string } }>(`query($b: ID!) { backfill(id: $b) { status } }`, { b: createBackfill.id });
      return backfill.status === 'COMPLETED';
    }, 60_000);
    const [run] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start LIMIT 1`, [createBackfill.id]);
    await h.gql(`mutation($r: ID!) { retryRun(id: $r) { id } }`, { r: run.id });
    await h.waitFor('retried run', async () => {
      const [r] = await h.app.dataSource.query(`SELECT status, attempt FROM runs WHERE id = $1`, [run.id]);
      return r.status === 'Completed' && r.attempt === 1 && r;
    });
    expect(await landedUuids()).toEqual(sourceUuids);
  }, 120_000);
});
