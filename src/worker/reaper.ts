/**
 * Finds runs whose worker stopped heartbeating (killed process, lost machine) and releases their jobs, so another
 * worker executes them again. graphile-worker's own lock expiry is hours; this brings it down to about a minute.
 * The next attempt's writes are idempotent at the destination, so the rows land once.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';

export async function reapStaleRuns(ds: DataSource, log: Logger, timeoutSeconds: number): Promise<number> {
  const stale: { id: string; team_id: number; batch_export_id: string; worker_id: string }[] = await ds.query(
    `SELECT id, team_id, batch_export_id, worker_id FROM runs
     WHERE status = 'Running' AND worker_id IS NOT NULL AND heartbeat_at < now() - make_interval(secs => $1)`,
    [timeoutSeconds],
  );
  if (stale.length === 0) return 0;
  const workers = [...new Set(stale.map((r) => r.worker_id))];
  await ds.query(`SELECT graphile_worker.force_unlock_workers($1::text[])`, [workers]);
  for (const r of stale) {
    log.warn({ runId: r.id, workerId: r.worker_id }, 'run lost its worker; released for another worker');
    await ds.query(
      `INSERT INTO log_entries (team_id, batch_export_id, run_id, level, message) VALUES ($1, $2, $3, 'WARN', $4)`,
      [r.team_id, r.batch_export_id, r.id, `Worker ${r.worker_id} stopped heartbeating for over ${timeoutSeconds} s; the run was handed to another worker.`],
    );
  }
  return stale.length;
}
