/**
 * How runs fail and recover, end to end on the real worker: a destination outage retried with backoff until it
 * succeeds; a wrong password failing at once with a clear message, then fixed and replayed; reconciliation
 * refusing a run whose destination lost rows; auto-pause and the team's webhook; cancelling a long run.
 */
import http from 'node:http';
import path from 'node:path';
import { generateEvents, insertBulkEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const HOUR = 3_600_000;

describe('failures and recovery', () => {
  let h: AppHarness;
  let proxy: TcpProxy;
  const hooks: unknown[] = [];
  let hookServer: http.Server;
  let hookUrl: string;

  beforeAll(async () => {
    h = await startAppHarness({
      env: { AUTO_PAUSE_FAILURES: '2', AUTO_PAUSE_WINDOW: '3', RETRY_MAX_ATTEMPTS: '30', SOURCE_BATCH_SIZE: '2000' },
      overrides: { pluginDirs: [path.join(__dirname, '..', 'fixtures', 'execution-plugins')] },
    });
    proxy = await startTcpProxy(h.destination.port);
    hookServer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c)).on('end', () => {
        hooks.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`;
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
    hookServer?.close();
  });

  let seedN = 100;
  async function exportWithData(destConfig: Record<string, unknown>, type = 'postgres', start = new Date('2026-06-01T00:00:00Z'), rows = 50) {
    const events = generateEvents({ seed: seedN++, teamId: h.teamId, count: rows, start, stepMicros: 10_000_000 });
    await insertEvents(h.ch, { database: h.chDatabase }, events);
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!, $t: String!) { createDestination(input: { name: "d", type: $t, config: $c }) { id } }`,
      { c: destConfig, t: type },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    return { destinationId: createDestination.id, exportId: createBatchExport.id, uuids: events.map((e) => e.uuid).sort(), start };
  }
  const backfillOne = async (exportId: string, start: Date) => {
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: exportId, s: start.toISOString(), t: new Date(start.getTime() + HOUR).toISOString() },
    );
    const [run] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1`, [createBackfill.id]);
    return run.id as string;
  };
  const runRow = async (id: string) => (await h.app.dataSource.query(`SELECT * FROM runs WHERE id = $1`, [id]))[0];
  const finished = (id: string, ms = 30_000) =>
    h.waitFor(`run ${id} to finish`, async () => {
      const r = await runRow(id);
      return ['Completed', 'Failed', 'Cancelled', 'TimedOut'].includes(r.status) && r;
    }, ms);
  const logsOf = async (runId: string) =>
    (await h.app.dataSource.query(`SELECT level, message FROM log_entries WHERE run_id = $1 ORDER BY id`, [runId])) as { level: string; message: string }[];

  it('retries a destination outage with backoff, then succeeds once it is back', async () => {
    proxy.up = false;
    const { exportId, uuids, start } = await exportWithData({ ...h.destination, port: proxy.port, table_name: 'outage', ssl_mode: 'disable', connect_timeout_seconds: 2 });
    const runId = await backfillOne(exportId, start);
    await h.waitFor('two failed attempts', async () => {
      const r = await runRow(runId);
      return r.attempt >= 2 && r.status === 'FailedRetryable';
    });
    proxy.up = true;
    const r = await finished(runId);
    expect(r.status).toBe('Completed');
    expect(r.attempt).toBeGreaterThanOrEqual(2);
    const logs = await logsOf(runId);
    expect(logs.some((l) => l.level === 'WARN' && /retryable error.*Retrying in/.test(l.message))).toBe(true);
    const landed = await h.destinationQuery<{ uuid: string }>(`SELECT uuid::text AS uuid FROM outage ORDER BY uuid`);
    expect(landed.map((x) => x.uuid)).toEqual(uuids);
  }, 60_000);

  it('fails a wrong password at once with a clear message; fixing it and retrying the run succeeds', async () => {
    const { exportId, destinationId, uuids, start } = await exportWithData(
      { ...h.destination, password: 'wrong', table_name: 'replayed', ssl_mode: 'disable' },
      'postgres',
      new Date('2026-06-02T00:00:00Z'),
    );
    const runId = await backfillOne(exportId, start);
    const failed = await finished(runId);
    expect(failed.status).toBe('Failed');
    expect(failed.attempt).toBe(1);
    expect(failed.error_kind).toBe('config');
    expect(failed.latest_error).toMatch(/password/i);

    await h.gql(`mutation($id: ID!, $c: JSONObject!) { updateDestination(input: { id: $id, config: $c }) { id } }`, {
      id: destinationId,
      c: { password: h.destination.password },
    });
    await h.gql(`mutation($r: ID!) { retryRun(id: $r) { id status } }`, { r: runId });
    const replayed = await finished(runId);
    expect(replayed.status).toBe('Completed');
    expect(Number(replayed.records_completed)).toBe(uuids.length);
    expect((await h.destinationQuery<{ n: number }>(`SELECT count(*)::int AS n FROM replayed`))[0].n).toBe(uuids.length);
  }, 60_000);

  it('refuses to complete a run whose destination landed fewer rows than were read', async () => {
    const { exportId, start } = await exportWithData({ drop: 1 }, 'lossy', new Date('2026-06-03T00:00:00Z'));
    const runId = await backfillOne(exportId, start);
    const r = await finished(runId);
    expect(r.status).toBe('Failed');
    expect(r.error_kind).toBe('reconciliation');
    expect(r.latest_error).toMatch(/read 50 rows .* confirmed 49/);
    expect(Number(r.records_read)).toBe(50);
    expect(Number(r.records_completed)).toBe(49);
  }, 60_000);

  it('pauses an export that keeps failing and tells the webhook', async () => {
    await h.gql(`mutation($u: String) { updateTeam(input: { webhookUrl: $u }) { webhookUrl } }`, { u: hookUrl });
    const { exportId, start } = await exportWithData({ drop: 5 }, 'lossy', new Date('2026-06-04T00:00:00Z'));
    await finished(await backfillOne(exportId, start));
    await finished(await backfillOne(exportId, start)); // the same interval again: a second failure
    const exp = await h.waitFor('auto-pause', async () => {
      const [e] = await h.app.dataSource.query(`SELECT paused, paused_reason FROM batch_exports WHERE id = $1`, [exportId]);
      return e.paused && e;
    });
    expect(exp.paused_reason).toMatch(/2 of the last 3 runs failed/);
    await h.waitFor('webhook deliveries', async () => hooks.some((x) => (x as { event: string }).event === 'export_auto_paused'));
    // The team webhook also hears the earlier tests' exports; this export's failure must be among the notices.
    const failedHook = hooks.find(
      (x) => (x as { event: string; batchExportId: string }).event === 'run_failed' && (x as { batchExportId: string }).batchExportId === exportId,
    ) as Record<string, string>;
    expect(failedHook).toBeDefined();
    expect(failedHook.text).toMatch(/failed/);
  }, 60_000);

  it('cancels a long run within seconds and leaves the destination as before', async () => {
    const start = new Date('2026-06-05T00:00:00Z');
    await insertBulkEvents(h.ch, { database: h.chDatabase }, { seed: 5, count: 150_000, teams: 1, start, stepMicros: 20_000 });
    expect(h.teamId).toBe(1); // the bulk generator writes team 1, the first team of the fresh store
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "big", type: "postgres", config: $c }) { id } }`,
      { c: { ...h.destination, table_name: 'cancelled', ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "big", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    const run = { id: await backfillOne(createBatchExport.id, start) };
    await h.waitFor('run to be streaming', async () => Number((await runRow(run.id)).records_read) > 0);
    const asked = Date.now();
    await h.gql(`mutation($r: ID!) { cancelRun(id: $r) { id } }`, { r: run.id });
    const r = await finished(run.id, 20_000);
    expect(r.status).toBe('Cancelled');
    expect(Date.now() - asked).toBeLessThan(10_000);
    const rows = await h.destinationQuery<{ n: number }>(
      `SELECT CASE WHEN to_regclass('public.cancelled') IS NULL THEN 0 ELSE (SELECT count(*)::int FROM cancelled) END AS n`,
    );
    expect(rows[0].n).toBe(0);
  }, 90_000);
});
