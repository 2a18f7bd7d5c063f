/**
 * The source ClickHouse cut mid-stream (a real TCP cut between the worker and the server): the run says the
 * READ failed, not the destination write, retries, and every row lands once when ClickHouse is back.
 */
import { insertBulkEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const HOUR = 3_600_000;
const ROWS = 120_000;

describe('a ClickHouse outage during a run', () => {
  let h: AppHarness;
  let proxy: TcpProxy;

  beforeAll(async () => {
    const ch = new URL(process.env.OUTPORT_TEST_CLICKHOUSE_URL!);
    proxy = await startTcpProxy(Number(ch.port), ch.hostname);
    const viaProxy = new URL(ch);
    viaProxy.port = String(proxy.port);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    h = await startAppHarness({
      env: { CLICKHOUSE_URL: viaProxy.toString().replace(/\/$/, ''), SOURCE_BATCH_SIZE: '2000', RETRY_MAX_ATTEMPTS: '30' },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
  });

  it('is reported as a source failure, retried, and every row lands once', async () => {
    const start = new Date('2026-07-01T00:00:00Z');
    await insertBulkEvents(h.ch, { database: h.chDatabase }, { seed: 3, count: ROWS, teams: 1, start, stepMicros: 25_000 });
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`,
      { c: { ...h.destination, table_name: 'cut_source', ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: createBatchExport.id, s: start.toISOString(), t: new Date(start.getTime() + HOUR).toISOString() },
    );
    const [{ id: runId }] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1`, [createBackfill.id]);
    const run = async () => (await h.app.dataSource.query(`SELECT * FROM runs WHERE id = $1`, [runId]))[0];

    await h.waitFor('rows to stream', async () => {
      const r = await run();
      return r.status === 'Running' && Number(r.records_read) >= 2000;
    }, 60_000);
    proxy.up = false;
    await h.waitFor('the cut attempt to fail', async () => (await run()).status === 'FailedRetryable', 30_000);
    const failed = await run();
    proxy.up = true;

    expect(failed.latest_error).toMatch(/^Reading from ClickHouse failed: /);
    const done = await h.waitFor('the run to finish', async () => {
      const r = await run();
      return ['Completed', 'Failed'].includes(r.status) && r;
    }, 60_000);
    expect(done.status).toBe('Completed');

    const logs: { level: string; message: string }[] = await h.app.dataSource.query(
      `SELECT level, message FROM log_entries WHERE run_id = $1 ORDER BY id`,
      [runId],
    );
    const failures = logs.filter((l) => /failed with a retryable error/.test(l.message));
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(f.message).toMatch(/Reading from ClickHouse failed/);
      expect(f.message).not.toMatch(/Writing to/);
    }
    const [counts] = await h.destinationQuery<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT uuid)::int AS distinct FROM cut_source`,
    );
    expect(counts).toEqual({ n: ROWS, distinct: ROWS });
  }, 120_000);
});
