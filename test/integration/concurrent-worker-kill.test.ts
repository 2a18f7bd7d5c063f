/**
 * Issue 13.5, durability: a worker PROCESS killed with SIGKILL while it executes several runs of one concurrent
 * events backfill (it holds several of the export's lanes). The reaper releases its runs and lanes, another worker
 * process finishes the backfill, and the destination holds each row exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { insertBulkEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');
const HOUR = 3_600_000;
const RUNS = 8;
const ROWS_PER_RUN = 15_000;

describe('a worker killed mid-way through a concurrent backfill', () => {
  let h: AppHarness;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the suite with \`npm test\`, which builds first`);
    h = await startAppHarness({ roles: 'api', env: { HEARTBEAT_TIMEOUT_SECONDS: '4', SOURCE_BATCH_SIZE: '1000' } });
  }, 120_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await h?.stop();
  });

  const worker = () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...h.env, OUTPORT_ROLES: 'worker', WORKER_CONCURRENCY: '4', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', () => undefined);
    children.push(child);
    return child;
  };

  it('is finished by another worker and every row lands once', async () => {
    expect(h.teamId).toBe(1); // the bulk generator writes team 1
    const start = new Date('2026-07-10T00:00:00Z');
    await insertBulkEvents(h.ch, { database: h.chDatabase }, {
      seed: 19, count: RUNS * ROWS_PER_RUN, teams: 1, start, stepMicros: (HOUR * 1000) / ROWS_PER_RUN, insertDelayMicros: 0,
    });
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`,
      { c: { ...h.destination, table_name: 'lanes_survived', ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR, maxConcurrentRuns: 4 }) { id } }`,
      { d: createDestination.id },
    );
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: createBatchExport.id, s: start.toISOString(), t: new Date(start.getTime() + RUNS * HOUR).toISOString() },
    );
    const runs = async () =>
      (await h.app.dataSource.query(`SELECT id, status, attempt, worker_id, records_read, records_completed FROM runs WHERE backfill_id = $1`, [
        createBackfill.id,
      ])) as { id: string; status: string; attempt: number; worker_id: string; records_read: string; records_completed: string }[];

    const first = worker();
    const victims = await h.waitFor('the first worker to stream rows of two runs at once', async () => {
      const streaming = (await runs()).filter((r) => r.status === 'Running' && Number(r.records_read) >= 1000);
      return streaming.length >= 2 && streaming;
    }, 90_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    worker();
    await h.waitFor('the backfill to finish on the second worker', async () => {
      const [b] = await h.app.dataSource.query(`SELECT status FROM backfills WHERE id = $1`, [createBackfill.id]);
      return ['Completed', 'Failed', 'Cancelled'].includes(b.status) && b;
    }, 150_000);
    const done = await runs();
    expect(done.map((r) => r.status)).toEqual(Array(RUNS).fill('Completed'));
    for (const v of victims) {
      const after = done.find((r) => r.id === v.id)!;
      expect(after.attempt).toBeGreaterThanOrEqual(2); // taken over, not finished by the killed worker
      expect(after.worker_id).not.toBe(v.worker_id);
    }
    expect(done.reduce((a, r) => a + Number(r.records_completed), 0)).toBe(RUNS * ROWS_PER_RUN);
    const [counts] = await h.destinationQuery<{ n: number; distinct: number }>(`SELECT count(*)::int AS n, count(DISTINCT uuid)::int AS distinct FROM lanes_survived`);
    expect(counts).toEqual({ n: RUNS * ROWS_PER_RUN, distinct: RUNS * ROWS_PER_RUN });
    const logs = await h.app.dataSource.query(`SELECT message FROM log_entries WHERE run_id = ANY($1::uuid[])`, [victims.map((v) => v.id)]);
    expect(logs.filter((l: { message: string }) => /stopped heartbeating/.test(l.message)).length).toBe(victims.length);
  }, 300_000);
});
