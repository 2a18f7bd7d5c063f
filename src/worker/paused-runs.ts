/**
 * What pausing an export means for its runs (issue 12.3).
 *
 * - A pause (by a user or automatic) stops new attempts. Runs waiting for an attempt (`Starting`, or
 *   `FailedRetryable` between retries) keep their status but lose their job, so no worker picks them up and no
 *   retry fires; `next_attempt_at` is cleared, since none is scheduled.
 * - A run whose job a worker had already picked up when the pause committed, and a retry scheduled by an attempt
 *   that ended after it, are not attempted either: the worker checks the export before claiming (`holdWhilePaused`).
 * - An attempt already running when the pause commits finishes; its outcome is recorded, and a retry it asks for
 *   waits like any other run.
 * - Unpausing re-queues every waiting run of the export, oldest interval first (`requeueWaitingRuns`).
 * - An automatic pause also cancels the export's active backfills (see alerts.ts): their remaining runs would only
 *   fail against the same broken destination.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { RunEntity } from '../store/entities';
import { runLog } from './run-log';
import { EXECUTE_RUN_TASK, runQueueSql, type Queryable } from './run-queue';

/** Run statuses waiting for an attempt: nothing is executing them. */
export const WAITING_RUN_STATUSES = ['Starting', 'FailedRetryable'] as const;

/** Removes the jobs of the export's waiting runs (inside the pausing transaction). Returns how many runs wait. */
export async function holdWaitingRuns(db: Queryable, batchExportId: string): Promise<number> {
  const [{ n }] = (await db.query(
    `WITH held AS (
       UPDATE runs SET next_attempt_at = NULL WHERE batch_export_id = $1 AND status = ANY($2::text[]) RETURNING id
     )
     SELECT count(*)::int AS n FROM (SELECT graphile_worker.remove_job('run:' || id) FROM held) removed`,
    [batchExportId, WAITING_RUN_STATUSES],
  )) as { n: number }[];
  return n;
}

/** Queues every waiting run of the export that has no job, oldest interval first (inside the unpausing transaction). */
export async function requeueWaitingRuns(db: Queryable, batchExportId: string): Promise<number> {
  const [{ n }] = (await db.query(
    `WITH waiting AS (
       SELECT r.id, r.interval_start, r.created_at, ${runQueueSql('r', 'e')} AS queue_name FROM runs r JOIN batch_exports e ON e.id = r.batch_export_id
       WHERE r.batch_export_id = $1 AND r.status = ANY($2::text[])
         AND NOT EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = 'run:' || r.id)
     ), jobs AS (
       SELECT graphile_worker.add_jobs(array_agg(
                ($3::text, json_build_object('runId', id::text), queue_name, NULL, 1000, 'run:' || id, NULL, NULL)::graphile_worker.job_spec
                ORDER BY interval_start, created_at))
       FROM waiting HAVING count(*) > 0
     )
     SELECT count(*)::int AS n FROM jobs`,
    [batchExportId, WAITING_RUN_STATUSES, EXECUTE_RUN_TASK],
  )) as { n: number }[];
  return n;
}

/**
 * Called by the worker instead of claiming a run of a paused export: the run stays waiting, without a job, until
 * the export is unpaused. Logged once per held job, so the run's logs say why it did not run. A run still marked
 * Running here lost its worker (its job was released by the reaper, or the attempt died before recording an
 * outcome): it becomes FailedRetryable, so unpausing re-queues it instead of leaving it Running forever.
 */
export async function holdWhilePaused(ds: DataSource, log: Logger, run: RunEntity): Promise<void> {
  const res = await ds.query(
    `UPDATE runs SET next_attempt_at = NULL,
       status = CASE WHEN status = 'Running' THEN 'FailedRetryable' ELSE status END,
       latest_error = CASE WHEN status = 'Running' THEN $4 ELSE latest_error END
     WHERE id = $1 AND attempt = $2 AND (status = ANY($3::text[]) OR status = 'Running')`,
    [run.id, run.attempt, WAITING_RUN_STATUSES, 'The attempt lost its worker while the export was paused; it runs again once the export is unpaused.'],
  );
  if ((res[1] ?? 0) === 0) return;
  await runLog(ds, log, run).info('Not attempted: the export is paused. The run will be attempted once the export is unpaused.');
}
