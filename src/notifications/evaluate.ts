/**
 * Finding the events nobody raises by failing: a recovery (the first success after failures), a slow run (at
 * completion, or while still running, found by the scheduler tick) and stale data (the tick: the export's last
 * completed interval ended more than N intervals ago). Each is one occurrence per channel (see outbox.ts), so
 * ticks in several scheduler processes and the worker never notify the same thing twice.
 */
import type { DataSource } from 'typeorm';
import type { IntervalKind } from '../scheduler/intervals';
import { notify } from './outbox';

const INTERVAL_SECONDS: Record<IntervalKind, number> = { every_5_minutes: 300, every_15_minutes: 900, hour: 3600, day: 86_400, week: 604_800 };

export interface FinishedRun {
  id: string;
  teamId: number;
  batchExportId: string;
  intervalStart: Date;
  intervalEnd: Date;
}

/** A run of the export failed: its next completed run (a retry of this one included) is a recovery. */
export async function markExportFailing(ds: DataSource, batchExportId: string): Promise<void> {
  await ds.query(`INSERT INTO export_failure_state (batch_export_id) VALUES ($1) ON CONFLICT DO NOTHING`, [batchExportId]);
}

/** After a run Completed: `export_recovered` when the export was failing, and `run_slow`. */
export async function notifyOnCompletion(ds: DataSource, run: FinishedRun, exportName: string, now: Date = new Date()): Promise<void> {
  const base = {
    teamId: run.teamId,
    batchExportId: run.batchExportId,
    batchExportName: exportName,
    runId: run.id,
    intervalStart: run.intervalStart.toISOString(),
    intervalEnd: run.intervalEnd.toISOString(),
    at: now.toISOString(),
  };
  // TypeORM answers a DELETE with [rows, count].
  const [[recovered]] = await ds.query(`DELETE FROM export_failure_state WHERE batch_export_id = $1 RETURNING failing_since`, [run.batchExportId]);
  if (recovered) {
    await notify(ds, { ...base, event: 'export_recovered', failingSince: recovered.failing_since.toISOString(), occurrence: `recovered:${run.id}` }, now);
  }
  const [timing] = await ds.query(`SELECT extract(epoch FROM finished_at - started_at)::float8 AS seconds FROM runs WHERE id = $1`, [run.id]);
  if (timing?.seconds != null) {
    await notify(ds, { ...base, event: 'run_slow', durationSeconds: timing.seconds, stillRunning: false, occurrence: `slow:${run.id}` }, now);
  }
}

/** The scheduler tick's check: runs running longer than a channel's threshold, and exports whose data is stale. */
export async function notifyOverdue(ds: DataSource, now: Date): Promise<{ slow: number; stale: number }> {
  let slow = 0;
  let stale = 0;
  const running: { id: string; team_id: number; batch_export_id: string; name: string; interval_start: Date; interval_end: Date; seconds: number }[] = await ds.query(
    `SELECT r.id, r.team_id, r.batch_export_id, b.name, r.interval_start, r.interval_end, extract(epoch FROM $1::timestamptz - r.started_at)::float8 AS seconds
     FROM runs r JOIN batch_exports b ON b.id = r.batch_export_id
     WHERE r.status = 'Running' AND EXISTS (
       SELECT 1 FROM notification_channels c WHERE c.team_id = r.team_id AND c.enabled AND 'run_slow' = ANY(c.events)
         AND (c.batch_export_id IS NULL OR c.batch_export_id = r.batch_export_id)
         AND r.started_at < $1::timestamptz - c.slow_run_seconds * interval '1 second')`,
    [now],
  );
  for (const r of running) {
    slow += await notify(
      ds,
      {
        event: 'run_slow',
        teamId: r.team_id,
        batchExportId: r.batch_export_id,
        batchExportName: r.name,
        runId: r.id,
        intervalStart: r.interval_start.toISOString(),
        intervalEnd: r.interval_end.toISOString(),
        durationSeconds: r.seconds,
        stillRunning: true,
        occurrence: `slow:${r.id}`,
        at: now.toISOString(),
      },
      now,
    );
  }
  // Paused, deleted and finished (end_at passed) exports are not expected to be fresh.
  const exports: { id: string; team_id: number; name: string; interval: IntervalKind; created_at: Date; last_end: Date | null }[] = await ds.query(
    `SELECT b.id, b.team_id, b.name, b.interval, b.created_at,
            (SELECT max(interval_end) FROM runs WHERE batch_export_id = b.id AND status = 'Completed') AS last_end
     FROM batch_exports b
     WHERE b.deleted_at IS NULL AND NOT b.paused AND (b.end_at IS NULL OR b.end_at > $1::timestamptz) AND EXISTS (
       SELECT 1 FROM notification_channels c WHERE c.team_id = b.team_id AND c.enabled AND 'export_stale' = ANY(c.events)
         AND c.stale_intervals IS NOT NULL AND (c.batch_export_id IS NULL OR c.batch_export_id = b.id))`,
    [now],
  );
  for (const e of exports) {
    const since = e.last_end ?? e.created_at;
    const lagSeconds = (now.getTime() - since.getTime()) / 1000;
    const intervalSeconds = INTERVAL_SECONDS[e.interval];
    if (!intervalSeconds || lagSeconds <= intervalSeconds) continue;
    stale += await notify(
      ds,
      {
        event: 'export_stale',
        teamId: e.team_id,
        batchExportId: e.id,
        batchExportName: e.name,
        lastCompletedEnd: e.last_end?.toISOString() ?? null,
        lagSeconds,
        intervalSeconds,
        // One notice per stale episode: the episode ends when an interval completes (last_end moves).
        occurrence: `stale:${e.id}:${e.last_end?.toISOString() ?? 'never'}`,
        at: now.toISOString(),
      },
      now,
    );
  }
  return { slow, stale };
}
