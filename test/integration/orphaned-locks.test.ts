/**
 * A worker PROCESS killed outside a run's Running window: after it locked a run's job but before it claimed the
 * run, and after it completed the run but before its job was removed. The job and the export's queue stay locked
 * by a dead worker; another worker process must release them within about a heartbeat timeout (not graphile-worker's
 * 4 hours), so the export's later runs complete.
 *
 * The kill windows are opened without test hooks in the product: the test holds a row lock the worker needs next
 * (the run row for the claim, the job row for its removal), so the worker waits exactly there when it is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');
const HOUR = 3_600_000;
const TIMEOUT_SECONDS = 4;

describe('a worker killed while it holds a job outside the Running window', () => {
  let h: AppHarness;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the suite with \`npm test\`, which builds first`);
    h = await startAppHarness({ roles: 'api', env: { HEARTBEAT_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS) } });
  }, 120_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await h?.stop();
  });

  const worker = () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...h.env, OUTPORT_ROLES: 'worker', LOG_LEVEL: process.env.OUTPORT_TEST_CHILD_LOG ?? 'warn' },
      stdio: ['ignore', process.env.OUTPORT_TEST_CHILD_LOG ? 'inherit' : 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d) => process.env.OUTPORT_TEST_CHILD_LOG && process.stderr.write(d));
    children.push(child);
    return child;
  };
  const kill = async (child: ChildProcess) => {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  };

  let seed = 40;
  async function exportWithThreeRuns(name: string, start: Date) {
    for (let i = 0; i < 3; i++) {
      const events = generateEvents({ seed: seed++, teamId: h.teamId, count: 20, start: new Date(start.getTime() + i * HOUR), stepMicros: 60_000_000 });
      await insertEvents(h.ch, { database: h.chDatabase }, events);
    }
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`,
      { c: { ...h.destination, table_name: name, ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      // One run at a time: the export's single queue is what a dead worker's lock stalls (persons and sessions exports
      // always run this way; an events export with more lanes would go on in its other lanes).
      `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR, maxConcurrentRuns: 1 }) { id } }`,
      { d: createDestination.id },
    );
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: createBatchExport.id, s: start.toISOString(), t: new Date(start.getTime() + 3 * HOUR).toISOString() },
    );
    const runs: { id: string }[] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start`, [createBackfill.id]);
    expect(runs).toHaveLength(3);
    return runs.map((r) => r.id);
  }
  const statuses = async (ids: string[]) =>
    ((await h.app.dataSource.query(`SELECT status FROM runs WHERE id = ANY($1) ORDER BY interval_start`, [ids])) as { status: string }[]).map((r) => r.status);
  const jobOf = async (runId: string) =>
    (await h.app.dataSource.query(`SELECT id, locked_by FROM graphile_worker.jobs WHERE key = $1`, [`run:${runId}`]))[0] as { id: string; locked_by: string | null } | undefined;

  /**
   * Holds a row lock on a second connection, so a worker blocks on that row. Releasing first ends the sessions
   * still waiting on it: a killed process's statement would otherwise go on and commit once the lock is free
   * (Postgres notices the lost client only later), which a real crash does not guarantee either way.
   */
  async function holdRowLock(sql: string, params: unknown[], endWaiters = true) {
    const c = new Client(h.env.DATABASE_URL);
    await c.connect();
    await c.query('BEGIN');
    await c.query(sql, params);
    return async () => {
      if (endWaiters) {
        await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))`);
      }
      await c.query('ROLLBACK');
      await c.end();
    };
  }

  async function expectAllCompleted(ids: string[], table: string) {
    const started = Date.now();
    await h.waitFor('every run of the export to complete', async () => (await statuses(ids)).every((s) => s === 'Completed'), 45_000);
    // About a heartbeat timeout plus a reaper period, not graphile-worker's 4-hour lock expiry.
    expect(Date.now() - started).toBeLessThan(30_000);
    const [counts] = await h.destinationQuery<{ n: number; distinct: number }>(`SELECT count(*)::int AS n, count(DISTINCT uuid)::int AS distinct FROM ${table}`);
    expect(counts).toEqual({ n: 60, distinct: 60 });
  }

  it('releases the locks of a worker killed after locking a job but before claiming the run', async () => {
    const ids = await exportWithThreeRuns('killed_before_claim', new Date('2026-05-01T00:00:00Z'));
    const release = await holdRowLock(`SELECT 1 FROM runs WHERE id = $1 FOR UPDATE`, [ids[0]]);
    const victim = worker();
    try {
      await h.waitFor('the victim to lock the first job', async () => (await jobOf(ids[0]))?.locked_by, 30_000);
      await new Promise((r) => setTimeout(r, 500)); // it is now blocked on the claim
      await kill(victim);
    } finally {
      await release();
    }
    expect(await statuses(ids)).toEqual(['Starting', 'Starting', 'Starting']);
    const rescuer = worker();
    await expectAllCompleted(ids, 'killed_before_claim');
    await kill(rescuer);
  }, 90_000);

  it('releases the locks of a worker killed after completing a run but before its job was removed', async () => {
    const ids = await exportWithThreeRuns('killed_before_removal', new Date('2026-05-02T00:00:00Z'));
    // The claim waits on the run row while the test takes the job row; then the run proceeds to completion.
    const releaseRun = await holdRowLock(`SELECT 1 FROM runs WHERE id = $1 FOR UPDATE`, [ids[0]], false);
    const victim = worker();
    let release: () => Promise<void>;
    try {
      const job = await h.waitFor('the victim to lock the first job', async () => {
        const j = await jobOf(ids[0]);
        return j?.locked_by && j;
      }, 30_000);
      release = await holdRowLock(`SELECT 1 FROM graphile_worker._private_jobs WHERE id = $1 FOR UPDATE`, [job.id]);
    } finally {
      await releaseRun();
    }
    try {
      await h.waitFor('the first run to complete', async () => (await statuses(ids))[0] === 'Completed', 30_000);
      await new Promise((r) => setTimeout(r, 500)); // it is now blocked removing the job
      await kill(victim);
    } finally {
      await release();
    }
    expect((await jobOf(ids[0]))?.locked_by).toBeTruthy();
    const rescuer = worker();
    await expectAllCompleted(ids, 'killed_before_removal');
    await kill(rescuer);
  }, 90_000);
});
