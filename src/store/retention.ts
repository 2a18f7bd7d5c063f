/**
 * Retention of run history: finished runs older than RUN_RETENTION_DAYS and log entries older than
 * LOG_RETENTION_DAYS are deleted by the scheduler role, periodically, in small batches (short transactions that
 * never hold many row locks, each one export at a time so every delete is an index range scan).
 *
 * Never deleted: unfinished runs (Starting, Running, FailedRetryable), and each export's runs of its latest
 * `keepLatestRuns` intervals, which auto-pause reads (the last AUTO_PAUSE_WINDOW finished runs). A finished
 * backfill goes once none of its runs is left.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { isStoreUnavailable, sleep } from './availability';

export interface RetentionPolicy {
  /** Finished runs created more than this many days ago are deleted; 0 keeps them forever. */
  runDays: number;
  /** Log entries older than this many days are deleted; 0 keeps them forever. */
  logDays: number;
  /** Each export's runs of its latest this-many intervals are kept whatever their age. */
  keepLatestRuns: number;
  /** Rows per delete statement. Default: 1000. */
  batchSize?: number;
  /** Pause between two batches, leaving the store to other work. Default: 50 ms. */
  pauseMs?: number;
}

export interface PruneResult {
  runs: number;
  logEntries: number;
  backfills: number;
}

const DAY_MS = 86_400_000;
/** One pruner at a time among the scheduler processes (the others skip that pass). */
const LOCK_KEY = `hashtext('outport:retention')`;

/** One pass over every export. Returns what was deleted; `undefined` when another process was pruning. */
export async function pruneOnce(ds: DataSource, policy: RetentionPolicy, signal?: AbortSignal): Promise<PruneResult | undefined> {
  const result: PruneResult = { runs: 0, logEntries: 0, backfills: 0 };
  if (policy.runDays <= 0 && policy.logDays <= 0) return result;
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS locked`);
    if (!locked) return undefined;
    try {
      const batch = policy.batchSize ?? 1_000;
      const pause = () => sleep(policy.pauseMs ?? 50, signal);
      const exports: { id: string }[] = await runner.query(`SELECT id FROM batch_exports ORDER BY id`);
      const runCutoff = new Date(Date.now() - policy.runDays * DAY_MS);
      const logCutoff = new Date(Date.now() - policy.logDays * DAY_MS);
      for (const { id } of exports) {
        while (policy.runDays > 0 && !signal?.aborted) {
          const deleted = await runner.query(
            `DELETE FROM runs WHERE id IN (
               SELECT r.id FROM runs r
               WHERE r.batch_export_id = $1 AND r.created_at < $2 AND (r.finished_at IS NULL OR r.finished_at < $2)
                 AND r.status IN ('Completed', 'Failed', 'Cancelled', 'TimedOut')
                 AND r.interval_start < coalesce(
                   (SELECT interval_start FROM runs WHERE batch_export_id = $1 ORDER BY interval_start DESC OFFSET $3 LIMIT 1),
                   '-infinity')
               LIMIT $4)`,
            [id, runCutoff, Math.max(0, policy.keepLatestRuns - 1), batch],
          );
          result.runs += deleted[1] ?? 0;
          if ((deleted[1] ?? 0) < batch) break;
          await pause();
        }
        while (policy.logDays > 0 && !signal?.aborted) {
          const deleted = await runner.query(
            `DELETE FROM log_entries WHERE id IN (SELECT id FROM log_entries WHERE batch_export_id = $1 AND timestamp < $2 LIMIT $3)`,
            [id, logCutoff, batch],
          );
          result.logEntries += deleted[1] ?? 0;
          if ((deleted[1] ?? 0) < batch) break;
          await pause();
        }
      }
      if (policy.runDays > 0 && !signal?.aborted) {
        const deleted = await runner.query(
          `DELETE FROM backfills b WHERE b.finished_at IS NOT NULL AND b.created_at < $1 AND NOT EXISTS (SELECT 1 FROM runs WHERE backfill_id = b.id)`,
          [runCutoff],
        );
        result.backfills += deleted[1] ?? 0;
      }
      return result;
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}

/** Prunes now and every `everyMs`; a failed pass is logged (once per store outage) and tried again next time. */
export function startRetention(ds: DataSource, log: Logger, policy: RetentionPolicy & { everyMs: number }): { stop(): Promise<void> } {
  const stopping = new AbortController();
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  let storeDown = false;
  const pass = () => {
    if (busy || stopping.signal.aborted) return; // a long pass is not overlapped by the next one
    busy = true;
    running = pruneOnce(ds, policy, stopping.signal)
      .then(
        (r) => {
          storeDown = false;
          if (r && r.runs + r.logEntries + r.backfills > 0) {
            log.info({ runs: r.runs, logEntries: r.logEntries, backfills: r.backfills, runDays: policy.runDays, logDays: policy.logDays }, 'retention: deleted old run history');
          }
        },
        (err) => {
          if (isStoreUnavailable(err)) {
            if (!storeDown) log.warn({ err: String(err) }, 'retention: metadata store unreachable; pruning again at the next pass');
            storeDown = true;
          } else {
            log.error({ err: String(err) }, 'retention pass failed');
          }
        },
      )
      .finally(() => (busy = false));
  };
  pass();
  const timer = setInterval(pass, policy.everyMs);
  timer.unref();
  return {
    async stop() {
      stopping.abort();
      clearInterval(timer);
      await running;
    },
  };
}
