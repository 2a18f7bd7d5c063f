/**
 * Hands the work of dead workers to live ones, within about a heartbeat timeout instead of graphile-worker's
 * 4-hour lock expiry. A worker process is alive while its `worker_processes` row is fresh; its job slots lock jobs
 * under the graphile-worker ids listed there.
 *
 * - A Running run whose worker is dead (or, for a worker id no process row lists, whose heartbeat is stale) is
 *   released once: its worker's locks are cleared and `worker_id` is emptied, so the run is not reported again.
 * - A job or queue locked by an id no live process claims (killed after locking a job but before claiming its run,
 *   or after finishing the run but before removing the job) is unlocked: otherwise the export's queue is stuck.
 * - A waiting run of a live export that has no job at all (lost to a crash between two writes) is queued again.
 *
 * The next attempt's writes are idempotent at the destination, and every run write is fenced by attempt, so the
 * rows land once and a presumed-dead worker that comes back cannot overwrite its successor.
 */
import os from 'node:os';
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { EXECUTE_RUN_TASK, runQueueSql } from './run-queue';

export interface ReapResult {
  runsReleased: number;
  locksReleased: number;
  runsRequeued: number;
}

/** `locked_by` (a SQL expression) is held by a worker process that is alive. */
const ownerAlive = (lockedBy: string) =>
  `EXISTS (SELECT 1 FROM worker_processes w WHERE w.last_seen > now() - make_interval(secs => $1) AND ${lockedBy} = ANY(w.graphile_worker_ids))`;

export async function reap(ds: DataSource, log: Logger, timeoutSeconds: number): Promise<ReapResult> {
  return {
    runsReleased: await releaseRunsOfDeadWorkers(ds, log, timeoutSeconds),
    locksReleased: await releaseOrphanedLocks(ds, log, timeoutSeconds),
    runsRequeued: await requeueRunsWithoutJob(ds, log, timeoutSeconds),
  };
}

/** Kept for callers that only release stale runs. */
export async function reapStaleRuns(ds: DataSource, log: Logger, timeoutSeconds: number): Promise<number> {
  return (await reap(ds, log, timeoutSeconds)).runsReleased;
}

async function releaseRunsOfDeadWorkers(ds: DataSource, log: Logger, timeoutSeconds: number): Promise<number> {
  const released = await ds.transaction(async (m) => {
    // TypeORM answers an UPDATE ... RETURNING with [rows, affected].
    const [rows]: [{ id: string; team_id: number; batch_export_id: string; worker_id: string }[], number] = await m.query(
      `WITH stale AS (
         SELECT id, worker_id FROM runs
         WHERE status = 'Running' AND worker_id IS NOT NULL AND heartbeat_at < now() - make_interval(secs => $1)
           AND NOT ${ownerAlive('runs.worker_id')}
         FOR UPDATE SKIP LOCKED
       )
       UPDATE runs r SET worker_id = NULL FROM stale WHERE r.id = stale.id
       RETURNING r.id, r.team_id, r.batch_export_id, stale.worker_id`,
      [timeoutSeconds],
    );
    if (rows.length === 0) return rows;
    await m.query(`SELECT graphile_worker.force_unlock_workers($1::text[])`, [[...new Set(rows.map((r) => r.worker_id))]]);
    for (const r of rows) {
      await m.query(
        `INSERT INTO log_entries (team_id, batch_export_id, run_id, level, message) VALUES ($1, $2, $3, 'WARN', $4)`,
        [r.team_id, r.batch_export_id, r.id, `Worker ${r.worker_id} stopped heartbeating for over ${timeoutSeconds} s; the run was handed to another worker.`],
      );
    }
    return rows;
  });
  for (const r of released) log.warn({ runId: r.id, workerId: r.worker_id }, 'run lost its worker; released for another worker');
  return released.length;
}

async function releaseOrphanedLocks(ds: DataSource, log: Logger, timeoutSeconds: number): Promise<number> {
  // A lock whose Running run still heartbeats is left to releaseRunsOfDeadWorkers once that heartbeat is stale:
  // it logs on the run why it was handed over. (This also leaves busy workers from before process rows existed,
  // which no process row lists, alone during a rolling upgrade.)
  const orphans: { locked_by: string }[] = await ds.query(
    `SELECT DISTINCT l.locked_by FROM (
       SELECT locked_by, locked_at, key FROM graphile_worker._private_jobs WHERE locked_by IS NOT NULL
       UNION ALL
       SELECT locked_by, locked_at, NULL FROM graphile_worker._private_job_queues WHERE locked_by IS NOT NULL
     ) l
     WHERE l.locked_at < now() - make_interval(secs => $1)
       AND NOT ${ownerAlive('l.locked_by')}
       AND NOT EXISTS (
         SELECT 1 FROM graphile_worker._private_jobs j JOIN runs r ON j.key = 'run:' || r.id
         WHERE j.locked_by = l.locked_by AND r.status = 'Running' AND r.heartbeat_at > now() - make_interval(secs => $1))`,
    [timeoutSeconds],
  );
  if (orphans.length === 0) return 0;
  const ids = orphans.map((o) => o.locked_by);
  await ds.query(`SELECT graphile_worker.force_unlock_workers($1::text[])`, [ids]);
  log.warn({ workerIds: ids }, `released jobs and export queues locked by workers that stopped over ${timeoutSeconds} s ago`);
  return ids.length;
}

async function requeueRunsWithoutJob(ds: DataSource, log: Logger, timeoutSeconds: number): Promise<number> {
  // Running runs count once released (worker_id emptied above): nothing executes them any more.
  const requeued: { id: string }[] = await ds.query(
    `WITH orphaned AS (
       SELECT r.id, r.interval_start, r.created_at, r.next_attempt_at, ${runQueueSql('r', 'e')} AS queue_name FROM runs r JOIN batch_exports e ON e.id = r.batch_export_id
       WHERE (r.status IN ('Starting', 'FailedRetryable') OR (r.status = 'Running' AND r.worker_id IS NULL))
         AND e.deleted_at IS NULL AND NOT e.paused
         AND GREATEST(r.created_at, r.heartbeat_at) < now() - make_interval(secs => $1)
         AND NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs j WHERE j.key = 'run:' || r.id)
       ORDER BY r.interval_start, r.created_at
       LIMIT 1000
     )
     SELECT o.id FROM orphaned o, LATERAL graphile_worker.add_job($2, json_build_object('runId', o.id::text),
       queue_name => o.queue_name, run_at => o.next_attempt_at, max_attempts => 1000, job_key => 'run:' || o.id) j`,
    [timeoutSeconds, EXECUTE_RUN_TASK],
  );
  if (requeued.length) log.warn({ runIds: requeued.map((r) => r.id) }, 'queued runs that had lost their job');
  return requeued.length;
}

/** This process's row in `worker_processes`. */
export interface WorkerProcessRow {
  id: string;
  graphileWorkerIds: string[];
}

/** Refreshes (or creates) the process's liveness row with the graphile-worker ids its slots currently use. */
export async function recordWorkerProcess(ds: Pick<DataSource, 'query'>, row: WorkerProcessRow): Promise<void> {
  await ds.query(
    `INSERT INTO worker_processes (id, host, pid, graphile_worker_ids) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET graphile_worker_ids = EXCLUDED.graphile_worker_ids, last_seen = now()`,
    [row.id, os.hostname(), process.pid, row.graphileWorkerIds],
  );
}

/** A cleanly stopping process removes its row; rows of processes gone for a day are pruned by the reaper. */
export async function forgetWorkerProcess(ds: Pick<DataSource, 'query'>, id: string): Promise<void> {
  await ds.query(`DELETE FROM worker_processes WHERE id = $1`, [id]);
}

export async function pruneWorkerProcesses(ds: Pick<DataSource, 'query'>): Promise<void> {
  await ds.query(`DELETE FROM worker_processes WHERE last_seen < now() - interval '1 day'`);
}
