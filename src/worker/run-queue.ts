/**
 * Runs become graphile-worker jobs: one job per run (job key `run:<id>`, so enqueueing twice is harmless) in one
 * named queue per export, so an export's runs execute one at a time. Called inside the caller's transaction, so a
 * run row and its job commit together or not at all.
 */
import type { RunEntity } from '../store/entities';
import { publishChange, type RunChange } from '../store/event-bus';

export const EXECUTE_RUN_TASK = 'execute_run';

export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export function exportQueue(batchExportId: string): string {
  return `export:${batchExportId}`;
}

export async function enqueueRun(db: Queryable, run: Pick<RunEntity, 'id' | 'batchExportId'>, runAt?: Date): Promise<void> {
  await db.query(
    `SELECT graphile_worker.add_job($1, json_build_object('runId', $2::text), queue_name => $3, run_at => $4, max_attempts => 1000, job_key => $5)`,
    [EXECUTE_RUN_TASK, run.id, exportQueue(run.batchExportId), runAt ?? null, `run:${run.id}`],
  );
}

export function runChange(run: RunEntity): RunChange {
  return {
    kind: 'run',
    teamId: run.teamId,
    batchExportId: run.batchExportId,
    runId: run.id,
    backfillId: run.backfillId,
    status: run.status,
    recordsCompleted: run.recordsCompleted,
    recordsRead: run.recordsRead,
    recordsTotalCount: run.recordsTotalCount,
    bytesExported: run.bytesExported,
    latestError: run.latestError,
    intervalStart: run.intervalStart.toISOString(),
    intervalEnd: run.intervalEnd.toISOString(),
    at: new Date().toISOString(),
  };
}

export async function publishRun(db: Queryable, run: RunEntity): Promise<void> {
  await publishChange(db as never, runChange(run));
  if (run.backfillId) {
    await publishChange(db as never, {
      kind: 'backfill',
      teamId: run.teamId,
      batchExportId: run.batchExportId,
      backfillId: run.backfillId,
      at: new Date().toISOString(),
    });
  }
}
