/**
 * Runs become graphile-worker jobs: one job per run (job key `run:<id>`, so enqueueing twice is harmless) in a
 * named queue of its export. Called inside the caller's transaction, so a run row and its job commit together or
 * not at all.
 *
 * Queues ("lanes") bound how many runs of one export execute at once, on any number of worker processes and
 * machines, because graphile-worker runs one job of a named queue at a time:
 * - persons and sessions exports have one queue, `export:<id>`: their runs merge mutable rows, so they execute one
 *   at a time and in interval order (`waitForEarlierRun` in execute-run.ts);
 * - events exports have `max_concurrent_runs` lanes, `export:<id>` and `export:<id>:1` .. `:<n-1>`: events are
 *   immutable, so runs of disjoint intervals cannot interfere, and backfills and scheduled runs catching up run up
 *   to n at once. A run's lane is its interval's position on its own grid (start / length) modulo n, so
 *   consecutive intervals spread over the lanes, and two runs of the same interval share a lane.
 * The lane is computed from the run and export rows wherever a job is (re)created, so a retry, an unpause or the
 * reaper put a run back into the same lane. Runs already queued keep their lane when n changes; the claim in
 * execute-run.ts enforces the export's current n and never lets runs of overlapping intervals execute together.
 */
import type { RunEntity } from '../store/entities';
import { publishChange, type RunChange } from '../store/event-bus';

export const EXECUTE_RUN_TASK = 'execute_run';

/** Models whose runs may execute concurrently: their rows never change once written. */
export const CONCURRENT_MODELS: readonly string[] = ['events'];

export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export function exportQueue(batchExportId: string): string {
  return `export:${batchExportId}`;
}

/** Most runs of the export that may execute at once. */
export function runConcurrency(exp: { model: string; maxConcurrentRuns: number }): number {
  return CONCURRENT_MODELS.includes(exp.model) ? Math.max(1, exp.maxConcurrentRuns) : 1;
}

/** SQL for the export's concurrency, given the SQL alias of a `batch_exports` row. */
export function runConcurrencySql(exp: string): string {
  return `(CASE WHEN ${exp}.model = ANY('{${CONCURRENT_MODELS.join(',')}}'::text[]) THEN greatest(${exp}.max_concurrent_runs, 1) ELSE 1 END)`;
}

/** SQL for a run's queue name, given the SQL aliases of its `runs` row and its `batch_exports` row. */
export function runQueueSql(run: string, exp: string): string {
  const lane = `mod(floor(extract(epoch FROM ${run}.interval_start) / greatest(extract(epoch FROM ${run}.interval_end - ${run}.interval_start), 1))::bigint, ${runConcurrencySql(exp)})`;
  return `('export:' || ${run}.batch_export_id || CASE WHEN ${lane} = 0 THEN '' ELSE ':' || ${lane} END)`;
}

export async function enqueueRun(db: Queryable, run: Pick<RunEntity, 'id' | 'batchExportId'>, runAt?: Date): Promise<void> {
  await db.query(
    `SELECT graphile_worker.add_job($1, json_build_object('runId', $2::text), run_at => $4, max_attempts => 1000, job_key => $5,
       queue_name => coalesce((SELECT ${runQueueSql('r', 'e')} FROM runs r JOIN batch_exports e ON e.id = r.batch_export_id WHERE r.id = $2::uuid), $3))`,
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
