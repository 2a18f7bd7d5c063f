/**
 * Issue 12.3, end to end on the real worker: a paused export's runs are not attempted (queued runs and retries
 * alike) and resume on unpause; an automatic pause cancels the export's backfills with a logged reason; the team's
 * webhook hears once per change of the export's state, not once per failing run.
 */
import http from 'node:http';
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a paused export', () => {
  let h: AppHarness;
  let proxy: TcpProxy;
  const hooks: { event: string; batchExportId: string; runId: string; text: string }[] = [];
  let hookServer: http.Server;

  beforeAll(async () => {
    h = await startAppHarness({ env: { AUTO_PAUSE_FAILURES: '3', AUTO_PAUSE_WINDOW: '5', RETRY_MAX_ATTEMPTS: '100', WORKER_CONCURRENCY: '4' } });
    proxy = await startTcpProxy(h.destination.port);
    hookServer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c)).on('end', () => {
        hooks.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`;
    await h.gql(`mutation($u: String) { updateTeam(input: { webhookUrl: $u }) { webhookUrl } }`, { u: hookUrl });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
    hookServer?.close();
  });

  let seed = 1200;
  /** An hourly export of `hours` hours of events (10 per hour, so no interval is empty) and a backfill of them. */
  async function backfilledExport(destConfig: Record<string, unknown>, start: Date, hours: number) {
    await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: seed++, teamId: h.teamId, count: 10 * hours, start, stepMicros: 360_000_000 }));
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "d", type: "postgres", config: $c }) { id } }`,
      { c: destConfig },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "broken", destinationId: $d, model: EVENTS, interval: HOUR, maxConcurrentRuns: 1 }) { id } }`, // attempts counted one at a time
      { d: createDestination.id },
    );
    const exportId = createBatchExport.id;
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: exportId, s: start.toISOString(), t: new Date(start.getTime() + hours * HOUR).toISOString() },
    );
    return { exportId, backfillId: createBackfill.id };
  }
  const runsOf = async (exportId: string) =>
    (await h.app.dataSource.query(`SELECT id, status, attempt, latest_error FROM runs WHERE batch_export_id = $1 ORDER BY interval_start`, [exportId])) as {
      id: string; status: string; attempt: number; latest_error: string | null;
    }[];
  const attemptsStarted = async (exportId: string) =>
    (await h.app.dataSource.query(`SELECT count(*)::int AS n FROM log_entries WHERE batch_export_id = $1 AND message LIKE 'Attempt % started%'`, [exportId]))[0].n as number;
  const hooksOf = (exportId: string) => hooks.filter((x) => x.batchExportId === exportId).map((x) => x.event);

  it('auto-pause stops attempts, cancels the backfill with a logged reason, and notifies once', async () => {
    const { exportId, backfillId } = await backfilledExport(
      { ...h.destination, password: 'wrong', table_name: 'never', ssl_mode: 'disable' },
      new Date('2026-07-01T00:00:00Z'),
      24,
    );
    const backfill = await h.waitFor('the backfill to be cancelled', async () => {
      const { backfill } = await h.gql(`query($id: ID!) { backfill(id: $id) { status progress { totalRuns finishedRuns failedRuns } } }`, { id: backfillId });
      return backfill.status === 'CANCELLED' && backfill;
    });
    expect(backfill.progress).toEqual({ totalRuns: 24, finishedRuns: 24, failedRuns: 3 });
    await sleep(3000); // time for any attempt that should not happen to show up

    const runs = await runsOf(exportId);
    expect(runs.filter((r) => r.attempt > 0).map((r) => r.status)).toEqual(['Failed', 'Failed', 'Failed']);
    const cancelled = runs.filter((r) => r.attempt === 0);
    expect(cancelled).toHaveLength(21);
    expect(new Set(cancelled.map((r) => r.status))).toEqual(new Set(['Cancelled']));
    expect(cancelled[0].latest_error).toMatch(/paused automatically/);
    expect(await attemptsStarted(exportId)).toBe(3);
    expect(Number((await h.app.dataSource.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE queue_name = $1 OR queue_name LIKE $1 || ':%'`, [`export:${exportId}`]))[0].n)).toBe(0);

    const { logs } = await h.gql(`query($id: ID!) { logs(batchExportId: $id, level: [WARN], first: 20) { edges { node { message } } } }`, { id: exportId });
    const warnings: string[] = logs.edges.map((e: { node: { message: string } }) => e.node.message);
    expect(warnings).toContainEqual(expect.stringMatching(new RegExp(`^Backfill ${backfillId} .*cancelled: 21 of its runs had not run yet.*Paused automatically: 3 of the last 5 runs failed`)));

    await h.waitFor('webhook deliveries', async () => hooksOf(exportId).includes('export_auto_paused'));
    await sleep(500);
    expect(hooksOf(exportId)).toEqual(['run_failed', 'run_failed', 'export_auto_paused']);
  }, 90_000);

  it('after an unpause, only failures since the unpause count towards the next automatic pause', async () => {
    const start = new Date('2026-07-10T00:00:00Z');
    const { exportId } = await backfilledExport({ ...h.destination, password: 'wrong', table_name: 'never', ssl_mode: 'disable' }, start, 6);
    await h.waitFor('the automatic pause', async () => (await h.gql(`query($id: ID!) { batchExport(id: $id) { paused } }`, { id: exportId })).batchExport.paused, 60_000);
    await h.gql(`mutation($id: ID!) { unpauseBatchExport(id: $id) { paused } }`, { id: exportId });
    // One more failure after the unpause (the destination is still broken): 1 since the unpause, below 3.
    const after = new Date(start.getTime() + 24 * HOUR);
    await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: seed++, teamId: h.teamId, count: 10, start: after, stepMicros: 60_000_000 }));
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: exportId, s: after.toISOString(), t: new Date(after.getTime() + HOUR).toISOString() },
    );
    await h.waitFor('the run after the unpause to fail', async () => {
      const [r] = await h.app.dataSource.query(`SELECT status FROM runs WHERE backfill_id = $1`, [createBackfill.id]);
      return r?.status === 'Failed';
    }, 60_000);
    await sleep(1000);
    const { batchExport } = await h.gql(`query($id: ID!) { batchExport(id: $id) { paused pausedReason } }`, { id: exportId });
    expect(batchExport).toEqual({ paused: false, pausedReason: null });
  }, 120_000);

  it('a run that lost its worker while the export is paused is held, not re-attempted, and runs after unpause', async () => {
    const { exportId } = await backfilledExport({ ...h.destination, table_name: 'taken_over', ssl_mode: 'disable' }, new Date('2026-07-03T00:00:00Z'), 1);
    const run = await h.waitFor('the backfill run to complete', async () => (await runsOf(exportId)).find((r) => r.status === 'Completed'));
    await h.gql(`mutation($id: ID!) { pauseBatchExport(id: $id) { paused } }`, { id: exportId });
    const attemptsBefore = await attemptsStarted(exportId);
    // What the reaper leaves behind when a worker dies mid-attempt: a Running row with a stale heartbeat, its job free.
    await h.app.dataSource.query(
      `UPDATE runs SET status = 'Running', attempt = 1, worker_id = 'dead', heartbeat_at = now() - interval '1 hour' WHERE id = $1`,
      [run.id],
    );
    await h.app.dataSource.query(
      `SELECT graphile_worker.add_job('execute_run', json_build_object('runId', $1::text), queue_name => $2, job_key => $3)`,
      [run.id, `export:${exportId}`, `run:${run.id}`],
    );
    const held = await h.waitFor('the run to be held', async () => {
      const [r] = await runsOf(exportId);
      return r.status === 'FailedRetryable' && r;
    });
    expect(held.attempt).toBe(1);
    expect(held.latest_error).toMatch(/paused/);
    expect(await attemptsStarted(exportId)).toBe(attemptsBefore);

    await h.gql(`mutation($id: ID!) { unpauseBatchExport(id: $id) { paused } }`, { id: exportId });
    const done = await h.waitFor('the run to complete', async () => {
      const [r] = await runsOf(exportId);
      return r.status === 'Completed' && r;
    });
    expect(done.attempt).toBe(2);
  }, 60_000);

  it('a pause stops queued runs and retries; unpause resumes them and the backfill completes', async () => {
    proxy.up = false;
    const { exportId, backfillId } = await backfilledExport(
      { ...h.destination, port: proxy.port, table_name: 'resumed', ssl_mode: 'disable', connect_timeout_seconds: 2 },
      new Date('2026-07-02T00:00:00Z'),
      3,
    );
    await h.waitFor('the first run to be retrying', async () => (await runsOf(exportId))[0].attempt >= 2);
    await h.gql(`mutation($id: ID!) { pauseBatchExport(id: $id) { paused } }`, { id: exportId });
    await h.waitFor('the running attempt to end', async () => !(await runsOf(exportId)).some((r) => r.status === 'Running'));
    const before = await attemptsStarted(exportId);
    await sleep(4000); // retries are due every 0.3-1 s: several would have started by now
    expect(await attemptsStarted(exportId)).toBe(before);
    const held = await runsOf(exportId);
    expect(held.map((r) => r.status)).toEqual(['FailedRetryable', 'Starting', 'Starting']);
    const { backfill } = await h.gql(`query($id: ID!) { backfill(id: $id) { status } }`, { id: backfillId });
    expect(backfill.status).toBe('RUNNING'); // a user's pause holds a backfill, it does not cancel it

    proxy.up = true;
    await h.gql(`mutation($id: ID!) { unpauseBatchExport(id: $id) { paused } }`, { id: exportId });
    await h.waitFor('the backfill to complete', async () => {
      const { backfill: b } = await h.gql(`query($id: ID!) { backfill(id: $id) { status } }`, { id: backfillId });
      return b.status === 'COMPLETED';
    });
    expect((await runsOf(exportId)).map((r) => r.status)).toEqual(['Completed', 'Completed', 'Completed']);
    expect((await h.destinationQuery<{ n: number }>(`SELECT count(*)::int AS n FROM resumed`))[0].n).toBe(30);
    expect(hooksOf(exportId)).toEqual([]);
  }, 90_000);
});
