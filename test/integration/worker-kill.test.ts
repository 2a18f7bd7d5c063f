/**
 * Durability: a worker PROCESS killed with SIGKILL in the middle of a run. Another worker process notices the
 * stale heartbeat, takes the run over and finishes it, and the destination holds each row exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { insertBulkEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');
const HOUR = 3_600_000;
const ROWS = 120_000;

describe('a worker killed mid-run', () => {
  let h: AppHarness;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the suite with \`npm test\`, which builds first`);
    h = await startAppHarness({ roles: 'api', env: { HEARTBEAT_TIMEOUT_SECONDS: '4', SOURCE_BATCH_SIZE: '2000' } });
  }, 120_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await h?.stop();
  });

  const worker = () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...h.env, OUTPORT_ROLES: 'worker', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', () => undefined);
    children.push(child);
    return child;
  };

  it('is taken over by another worker and every row lands once', async () => {
    expect(h.teamId).toBe(1); // the bulk generator writes team 1
    const start = new Date('2026-07-01T00:00:00Z');
    await insertBulkEvents(h.ch, { database: h.chDatabase }, { seed: 9, count: ROWS, teams: 1, start, stepMicros: 25_000 });
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`,
      { c: { ...h.destination, table_name: 'survived', ssl_mode: 'disable' } },
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

    const first = worker();
    const victim = await h.waitFor('the first worker to stream rows', async () => {
      const r = await run();
      return r.status === 'Running' && Number(r.records_read) >= 4000 && r;
    }, 60_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(victim.attempt).toBe(1);

    worker();
    const done = await h.waitFor('the run to complete on the second worker', async () => {
      const r = await run();
      return ['Completed', 'Failed'].includes(r.status) && r;
    }, 90_000);
    expect(done.status).toBe('Completed');
    expect(done.attempt).toBeGreaterThanOrEqual(2);
    expect(done.worker_id).not.toBe(victim.worker_id);
    expect(Number(done.records_completed)).toBe(ROWS);

    const [counts] = await h.destinationQuery<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT uuid)::int AS distinct FROM survived`,
    );
    expect(counts).toEqual({ n: ROWS, distinct: ROWS });
    const logs = await h.app.dataSource.query(`SELECT message FROM log_entries WHERE run_id = $1 ORDER BY id`, [runId]);
    expect(logs.some((l: { message: string }) => /stopped heartbeating/.test(l.message))).toBe(true);
  }, 180_000);
});
