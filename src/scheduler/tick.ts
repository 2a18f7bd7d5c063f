/**
 * One scheduler tick: for every live export, create a run for each interval that has closed (plus the settle
 * delay) since `scheduled_until`, and enqueue it.
 *
 * `scheduled_until` is where the export's coverage ends (the end of its last scheduled run). The next run starts
 * exactly there, bridging to the current schedule's grid when a schedule change left it off-grid, so changing an
 * interval, time zone or offset never skips or repeats data.
 *
 * Safe against racing schedulers and racing API updates: runs are inserted only for an export whose
 * `scheduled_until`, schedule and paused/deleted state are still what this tick read (a compare-and-set in the
 * same statement), so a tick computed from a superseded schedule creates nothing and the next tick uses the new
 * one. The unique index on (export, interval) for scheduled runs is a second guard, and only the inserter
 * enqueues (the INSERT ... RETURNING feeds add_jobs in the same statement).
 */
import type { DataSource } from 'typeorm';
import type { Clock } from '../tokens';
import { runQueueSql } from '../worker/run-queue';
import { dueIntervals, firstInterval, type IntervalKind, type Schedule } from './intervals';

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
  schedule_hash: string;
}

/** Fingerprint of the columns an export's intervals are computed from (compare-and-set against racing updates). */
const scheduleHash = (t: string) => `md5(row(${t}.interval, ${t}.timezone, ${t}.offset_hour, ${t}.offset_day, ${t}.start_at, ${t}.end_at)::text)`;

export function scheduleOf(e: Pick<ExportRow, 'interval' | 'timezone' | 'offset_hour' | 'offset_day' | 'start_at' | 'end_at'>): Schedule {
  return { interval: e.interval, timezone: e.timezone, offsetHour: e.offset_hour, offsetDay: e.offset_day, startAt: e.start_at, endAt: e.end_at };
}

export async function schedulerTick(ds: DataSource, clock: Clock, opts: TickOptions): Promise<TickResult> {
  const now = clock.now();
  const exportsDue: ExportRow[] = await ds.query(
    `SELECT id, team_id, interval, timezone, offset_hour, offset_day, start_at, end_at, scheduled_until, created_at,
            ${scheduleHash('b')} AS schedule_hash
     FROM batch_exports b
     WHERE deleted_at IS NULL AND NOT paused AND (end_at IS NULL OR scheduled_until IS NULL OR scheduled_until < end_at)`,
  );
  const wanted: WantedRun[][] = [];
  const skipped: TickResult['skipped'] = [];
  for (const e of exportsDue) {
    try {
      const schedule = scheduleOf(e);
      const coveredUntil = e.scheduled_until ?? firstInterval(schedule, e.created_at).start;
      const due = dueIntervals(schedule, { coveredUntil, now, settleMs: opts.settleMs, limit: opts.catchUpLimit });
      if (due.length) wanted.push(due.map((iv) => ({ exportRow: e, start: iv.start, end: iv.end })));
    } catch (err) {
      skipped.push({ id: e.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
  let created = 0;
  // An export's runs stay in one statement: its compare-and-set covers all of them at once.
  for (const batch of chunkByExport(wanted, opts.chunkSize ?? 5000)) {
    const column = <T>(pick: (w: WantedRun) => T) => batch.map(pick);
    const [{ n }] = await ds.query(
      `WITH wanted AS (
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::text[])
           AS w(export_id, team_id, s, e, read_until, read_hash)
       ), advanced AS (
         -- Compare-and-set: a row changed since it was read (by another scheduler or the API) is left alone.
         UPDATE batch_exports b SET scheduled_until = m.e
         FROM (SELECT export_id, max(e) AS e, min(read_until) AS read_until, min(read_hash) AS read_hash FROM wanted GROUP BY export_id) m
         WHERE b.id = m.export_id AND b.scheduled_until IS NOT DISTINCT FROM m.read_until
           AND ${scheduleHash('b')} = m.read_hash
           AND NOT b.paused AND b.deleted_at IS NULL
         RETURNING b.id
       ), inserted AS (
         INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status, trigger)
         SELECT team_id, export_id, s, e, 'Starting', 'schedule' FROM wanted WHERE export_id IN (SELECT id FROM advanced) ORDER BY export_id, s
         ON CONFLICT (batch_export_id, interval_start, interval_end) WHERE backfill_id IS NULL DO NOTHING
         RETURNING id, batch_export_id, interval_start, interval_end
       ), jobs AS (
         -- One bulk add_jobs call: per-row add_job costs a plpgsql call and a statement each.
         SELECT graphile_worker.add_jobs(array_agg(
                  ('execute_run', json_build_object('runId', i.id::text), ${runQueueSql('i', 'e')}, NULL, 1000, 'run:' || i.id, NULL, NULL)::graphile_worker.job_spec
                  ORDER BY i.batch_export_id, i.interval_start))
         FROM inserted i JOIN batch_exports e ON e.id = i.batch_export_id HAVING count(*) > 0
       )
       SELECT count(*)::int AS n FROM jobs`,
      [
        column((w) => w.exportRow.id),
        column((w) => w.exportRow.team_id),
        column((w) => w.start),
        column((w) => w.end),
        column((w) => w.exportRow.scheduled_until),
        column((w) => w.exportRow.schedule_hash),
      ],
    );
    created += n;
  }
  return { exports: exportsDue.length, runsCreated: created, skipped };
}

interface WantedRun {
  exportRow: ExportRow;
  start: Date;
  end: Date;
}

function* chunkByExport(perExport: WantedRun[][], size: number): Generator<WantedRun[]> {
  let chunk: WantedRun[] = [];
  for (const runs of perExport) {
    if (chunk.length > 0 && chunk.length + runs.length > size) {
      yield chunk;
      chunk = [];
    }
    chunk.push(...runs);
  }
  if (chunk.length > 0) yield chunk;
}
