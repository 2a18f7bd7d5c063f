/**
 * The metadata Postgres stopped for several seconds and started again while runs are in flight, with an API +
 * scheduler process and two worker processes. Every role must report not-ready during the outage and ready after,
 * and every run must complete exactly once with its rows landed once: no job slot lost, no run left Starting or
 * Running, no endless "released" loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { insertBulkEvents } from '../../src/source';
import { freePort } from '../../src/store/embedded-postgres';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { startStoppablePostgres, type StoppablePostgres } from '../support/stoppable-postgres';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');
const HOUR = 3_600_000;
const RUNS_PER_EXPORT = 4;
const ROWS_PER_RUN = 25_000;
const OUTAGE_MS = 12_000;

describe('a metadata store outage while runs are in flight', () => {
  let store: StoppablePostgres;
  let h: AppHarness;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the suite with \`npm test\`, which builds first`);
    store = await startStoppablePostgres();
    h = await startAppHarness({
      roles: 'api,scheduler',
      env: { DATABASE_URL: store.url, HEARTBEAT_TIMEOUT_SECONDS: '4', SOURCE_BATCH_SIZE: '2000', RETRY_MAX_ATTEMPTS: '50' },
    });
  }, 120_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await h?.stop();
    await store?.destroy();
  });

  async function worker() {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...h.env, OUTPORT_ROLES: 'worker', HEALTH_PORT: String(port), LOG_LEVEL: process.env.OUTPORT_TEST_CHILD_LOG ?? 'warn' },
      stdio: ['ignore', process.env.OUTPORT_TEST_CHILD_LOG ? 'inherit' : 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d) => process.env.OUTPORT_TEST_CHILD_LOG && process.stderr.write(d));
    children.push(child);
    return { child, readyz: `http://127.0.0.1:${port}/readyz` };
  }
  const logs0 = (rows: { message: string }[]) => rows.map((r) => r.message);
  const readyStatus = (url: string) => fetch(url, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0);

  async function exportWithBackfill(table: string, start: Date) {
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`,
      { c: { ...h.destination, table_name: table, ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    await h.gql(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: createBatchExport.id, s: start.toISOString(), t: new Date(start.getTime() + RUNS_PER_EXPORT * HOUR).toISOString() },
    );
    return createBatchExport.id;
  }

  it('every role goes unready and comes back, and every run completes once with its rows landed once', async () => {
    expect(h.teamId).toBe(1); // the bulk generator writes team 1
    const start = new Date('2026-07-01T00:00:00Z');
    await insertBulkEvents(h.ch, { database: h.chDatabase }, {
      seed: 12, count: RUNS_PER_EXPORT * ROWS_PER_RUN, teams: 1, start, stepMicros: (HOUR * 1000) / ROWS_PER_RUN,
    });
    const exportIds = [await exportWithBackfill('outage_a', start), await exportWithBackfill('outage_b', start)];
    const apiReadyz = new URL('/readyz', h.app.apiUrl!).toString();
    const workers = [await worker(), await worker()];
    const probes = [apiReadyz, ...workers.map((w) => w.readyz)];
    await h.waitFor('every process to be ready', async () => (await Promise.all(probes.map(readyStatus))).every((s) => s === 200), 30_000);

    const runs = async () =>
      (await h.app.dataSource.query(`SELECT id, status, attempt, records_read FROM runs WHERE batch_export_id = ANY($1)`, [exportIds])) as {
        id: string; status: string; attempt: number; records_read: string;
      }[];
    await h.waitFor('both exports to stream rows', async () => (await runs()).filter((r) => r.status === 'Running' && Number(r.records_read) > 0).length >= 2, 60_000);

    await store.stop();
    const downAt = Date.now();
    await h.waitFor('every process to report not ready', async () => (await Promise.all(probes.map(readyStatus))).every((s) => s === 503), 10_000);
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
    expect(workers.every((w) => w.child.exitCode === null)).toBe(true);
    await store.start();

    await h.waitFor('every process to be ready again', async () => (await Promise.all(probes.map(readyStatus))).every((s) => s === 200), 30_000);
    const all = await h.waitFor('every run to complete', async () => {
      const r = await runs();
      return r.length === 2 * RUNS_PER_EXPORT && r.every((x) => ['Completed', 'Failed', 'Cancelled', 'TimedOut'].includes(x.status)) && r;
    }, 150_000); // ~25 s on a quiet machine; a loaded one needs the margin (retries back off after the outage)
    expect(all.map((r) => r.status)).toEqual(Array(2 * RUNS_PER_EXPORT).fill('Completed'));

    // What the source holds for the export's intervals (the first seconds are below its insertion-delay guard).
    const [{ expected }] = await h.app.dataSource.query(
      `SELECT sum(records_total_count)::int / 2 AS expected FROM runs WHERE batch_export_id = ANY($1)`,
      [exportIds],
    );
    expect(expected).toBeGreaterThan(RUNS_PER_EXPORT * ROWS_PER_RUN * 0.99);
    for (const table of ['outage_a', 'outage_b']) {
      const [counts] = await h.destinationQuery<{ n: number; distinct: number }>(`SELECT count(*)::int AS n, count(DISTINCT uuid)::int AS distinct FROM ${table}`);
      expect(counts).toEqual({ n: expected, distinct: expected });
    }
    const failures = logs0(await h.app.dataSource.query(`SELECT message FROM log_entries WHERE batch_export_id = ANY($1) AND level IN ('WARN', 'ERROR')`, [exportIds]));
    // The destination never failed: an attempt caught by the outage must not blame it.
    expect(failures.filter((m) => /failed with a retryable error: .*Postgres/.test(m))).toEqual([]);
    const logs: { run_id: string; message: string }[] = await h.app.dataSource.query(
      `SELECT run_id, message FROM log_entries WHERE batch_export_id = ANY($1) AND run_id IS NOT NULL`,
      [exportIds],
    );
    for (const r of all) {
      const mine = logs.filter((l) => l.run_id === r.id);
      expect(mine.filter((l) => /^Completed: /.test(l.message))).toHaveLength(1);
      // A run is released at most once per attempt, never every reaper period.
      expect(mine.filter((l) => /stopped heartbeating/.test(l.message)).length).toBeLessThanOrEqual(r.attempt);
    }
    expect(workers.every((w) => w.child.exitCode === null)).toBe(true);
  }, 300_000);
});
