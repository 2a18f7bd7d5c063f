/**
 * One scheduler tick: for every live export, create a run for each interval that has closed (plus the settle
 * delay) since `scheduled_until`, and enqueue it. Idempotent by construction: the unique index on
 * (export, interval) for scheduled runs means two schedulers racing create each run once, and only the inserter
 * enqueues it (the INSERT ... RETURNING feeds add_job in the same statement).
 */
import type { DataSource } from 'typeorm';
import type { Clock } from '../tokens';
import { closedIntervals, firstInterval, type IntervalKind, type Schedule } from './intervals';

export interface TickOptions {
  settleMs: number;
  /** Most intervals one export catches up on per tick. */
  catchUpLimit: number;
  /** Exports handled per statement. */
  chunkSize?: number;
}

export interface TickResult {
  exports: number;
  runsCreated: number;
  /** Exports whose stored schedule could not be evaluated; the others are scheduled regardless. */
  skipped: { id: string; error: string }[];
}

interface ExportRow {
  id: string;
  team_id: number;
  interval: IntervalKind;
  timezone: string;
  offset_hour: number;
  offset_day: number;
  start_at: Date | null;
  end_at: Date | null;
  scheduled_until: Date | null;
  created_at: Date;
}

export function scheduleOf(e: Pick<ExportRow, 'interval' | 'timezone' | 'offset_hour' | 'offset_day' | 'start_at' | 'end_at'>): Schedule {
  return { interval: e.interval, timezone: e.timezone, offsetHour: e.offset_hour, offsetDay: e.offset_day, startAt: e.start_at, endAt: e.end_at };
}

export async function schedulerTick(ds: DataSource, clock: Clock, opts: TickOptions): Promise<TickResult> {
  const now = clock.now();
  const exportsDue: ExportRow[] = await ds.query(
    `SELECT id, team_id, interval, timezone, offset_hour, offset_day, start_at, end_at, scheduled_until, created_at
     FROM batch_exports
     WHERE deleted_at IS NULL AND NOT paused AND (end_at IS NULL OR scheduled_until IS NULL OR scheduled_until < end_at)`,
  );
  const ids: string[] = [];
  const teams: number[] = [];
  const starts: Date[] = [];
  const ends: Date[] = [];
  const skipped: TickResult['skipped'] = [];
  for (const e of exportsDue) {
    try {
      const schedule = scheduleOf(e);
      const from = e.scheduled_until ?? firstInterval(schedule, e.created_at).start;
      for (const iv of closedIntervals(schedule, { from, now, settleMs: opts.settleMs, limit: opts.catchUpLimit })) {
        ids.push(e.id);
        teams.push(e.team_id);
        starts.push(iv.start);
        ends.push(iv.end);
      }
    } catch (err) {
      skipped.push({ id: e.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
  let created = 0;
  const chunk = opts.chunkSize ?? 5000;
  for (let i = 0; i < ids.length; i += chunk) {
    const slice = <T>(a: T[]) => a.slice(i, i + chunk);
    const [{ n }] = await ds.query(
      `WITH wanted AS (
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::timestamptz[]) AS w(export_id, team_id, s, e)
       ), inserted AS (
         INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status, trigger)
         SELECT team_id, export_id, s, e, 'Starting', 'schedule' FROM wanted ORDER BY export_id, s
         ON CONFLICT (batch_export_id, interval_start, interval_end) WHERE backfill_id IS NULL DO NOTHING
         RETURNING id, batch_export_id, interval_start
       ), advanced AS (
         UPDATE batch_exports b SET scheduled_until = GREATEST(b.scheduled_until, m.e)
         FROM (SELECT export_id, max(e) AS e FROM wanted GROUP BY export_id) m WHERE b.id = m.export_id
       ), jobs AS (
         -- One bulk add_jobs call: per-row add_job costs a plpgsql call and a statement each.
         SELECT graphile_worker.add_jobs(array_agg(
                  ('execute_run', json_build_object('runId', id::text), 'export:' || batch_export_id, NULL, 1000, 'run:' || id, NULL, NULL)::graphile_worker.job_spec
                  ORDER BY batch_export_id, interval_start))
         FROM inserted HAVING count(*) > 0
       )
       SELECT count(*)::int AS n FROM jobs`,
      [slice(ids), slice(teams), slice(starts), slice(ends)],
    );
    created += n;
  }
  return { exports: exportsDue.length, runsCreated: created, skipped };
}
