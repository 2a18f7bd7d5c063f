/** A backfill's status follows its runs: Running once one starts, finished once none is left to run. */
import type { DataSource } from 'typeorm';
import { publishChange } from '../store/event-bus';
import type { RunEntity } from '../store/entities';

export async function markBackfillRunning(ds: DataSource, run: RunEntity): Promise<void> {
  await ds.query(`UPDATE backfills SET status = 'Running' WHERE id = $1 AND status = 'Starting'`, [run.backfillId]);
}

export async function finishBackfillIfDone(ds: DataSource, backfillId: string): Promise<void> {
  const rows = await ds.query(
    `UPDATE backfills b SET status = CASE WHEN s.failed > 0 THEN 'Failed' ELSE 'Completed' END, finished_at = now()
     FROM (SELECT count(*) FILTER (WHERE status NOT IN ('Completed', 'Failed', 'Cancelled', 'TimedOut')) AS open,
                  count(*) FILTER (WHERE status IN ('Failed', 'TimedOut')) AS failed
           FROM runs WHERE backfill_id = $1) s
     WHERE b.id = $1 AND s.open = 0 AND b.status IN ('Starting', 'Running')
     RETURNING b.team_id, b.batch_export_id`,
    [backfillId],
  );
  const done = rows[0]?.[0];
  if (done) {
    await publishChange(ds, { kind: 'backfill', teamId: done.team_id, batchExportId: done.batch_export_id, backfillId, at: new Date().toISOString() });
  }
}
