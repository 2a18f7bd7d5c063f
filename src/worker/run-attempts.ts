/**
 * The attempt history of runs (table run_attempts): the run row keeps only the latest attempt's state, so each
 * attempt is recorded here when claimed and when it ends. History is bookkeeping: a failure to write it is logged
 * and never changes the outcome of the attempt.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { RunEntity } from '../store/entities';

/**
 * Records the start of the attempt `run.attempt` just claimed. Attempts of this run still open had a worker that
 * stopped heartbeating (the reaper released the run): they are closed as `Lost`.
 */
export async function recordAttemptStarted(ds: DataSource, log: Logger, run: RunEntity, workerId: string): Promise<void> {
  try {
    await ds.query(
      `WITH lost AS (
         UPDATE run_attempts SET status = 'Lost', finished_at = now(),
           error = COALESCE(error, 'The worker stopped heartbeating; another attempt took the run over.')
         WHERE run_id = $1 AND finished_at IS NULL
       )
       INSERT INTO run_attempts (run_id, team_id, attempt, worker_id) VALUES ($1, $2, $3, $4)`,
      [run.id, run.teamId, run.attempt, workerId],
    );
  } catch (err) {
    log.warn({ err: String(err), runId: run.id, attempt: run.attempt }, 'could not record the start of the attempt in its history');
  }
}

/** Records how the attempt `attempt` of the run ended, with the run's counts at that moment. */
export async function recordAttemptFinished(
  ds: DataSource,
  log: Logger,
  run: RunEntity,
  attempt: number,
  outcome: { status: string; error?: string; kind?: string },
): Promise<void> {
  try {
    await ds.query(
      `UPDATE run_attempts SET status = $3, finished_at = now(), error = $4, error_kind = $5,
         records_read = $6, records_completed = $7, bytes_exported = $8
       WHERE id = (SELECT id FROM run_attempts WHERE run_id = $1 AND attempt = $2 AND finished_at IS NULL ORDER BY started_at DESC LIMIT 1)`,
      [run.id, attempt, outcome.status, outcome.error ?? null, outcome.kind ?? null, run.recordsRead, run.recordsCompleted, run.bytesExported],
    );
  } catch (err) {
    log.warn({ err: String(err), runId: run.id, attempt }, 'could not record the end of the attempt in its history');
  }
}
