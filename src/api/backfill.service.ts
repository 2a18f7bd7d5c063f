/**
 * Backfills: a past range split into one run per interval, created and enqueued in one transaction. Progress is
 * computed from the runs on every read, so it cannot drift from what the runs say.
 */
import { inject, injectable } from 'tsyringe';
import type { DataSource, EntityManager } from 'typeorm';
import { intervalContaining, intervalCount, splitRange } from '../scheduler/intervals';
import type { ClickHouseSource, PropertyFilter } from '../source';
import { BackfillEntity, BatchExportEntity, RunEntity, type BackfillEstimate } from '../store/entities';
import { CLOCK, DATA_SOURCE, SOURCE, type Clock } from '../tokens';
import { enqueueRun } from '../worker/run-queue';
import { badInput, tooManyRequests } from './errors';
import { loadBackfill, loadExport } from './lookup';
import { scheduleOf } from './schedule';
import { cancelActiveRuns } from './run.service';
import { publishTouched, type Touched } from './publish';

/** Most runs one backfill may create; a longer range is split into several backfills (or a coarser interval). */
export const MAX_BACKFILL_RUNS = 10_000;
/** ESTIMATE assumptions: fixed overhead per run (queueing, connect, commit) and a sustained read/write rate. */
export const ESTIMATE_SECONDS_PER_RUN = 2;
export const ESTIMATE_ROWS_PER_SECOND = 50_000;
/** How many of the export's latest completed attempts calibrate its estimate, and how few are enough. */
export const CALIBRATION_RUNS = 20;
export const CALIBRATION_MIN_RUNS = 3;

/**
 * Per-run overhead and rows/second of one export, from its latest completed attempts that moved data: the
 * overhead is the shortest attempt (its data took next to no time), the rate what the rest of the time moved.
 */
export async function exportThroughput(m: EntityManager | DataSource, batchExportId: string): Promise<{ secondsPerRun: number; rowsPerSecond: number; runs: number } | null> {
  const rows: { rows: string; seconds: number }[] = await m.query(
    `SELECT a.records_completed AS rows, EXTRACT(EPOCH FROM a.finished_at - a.started_at)::float8 AS seconds
     FROM run_attempts a JOIN runs r ON r.id = a.run_id
     WHERE r.batch_export_id = $1 AND a.status = 'Completed' AND a.records_completed > 0 AND a.finished_at IS NOT NULL
     ORDER BY a.finished_at DESC LIMIT $2`,
    [batchExportId, CALIBRATION_RUNS],
  );
  if (rows.length < CALIBRATION_MIN_RUNS) return null;
  const overhead = Math.min(...rows.map((r) => r.seconds));
  const totalRows = rows.reduce((n, r) => n + Number(r.rows), 0);
  const dataSeconds = rows.reduce((n, r) => n + Math.max(0, r.seconds - overhead), 0);
  return { secondsPerRun: overhead, rowsPerSecond: dataSeconds > 0 ? totalRows / dataSeconds : ESTIMATE_ROWS_PER_SECOND, runs: rows.length };
}

export interface BackfillProgress {
  totalRuns: number;
  finishedRuns: number;
  failedRuns: number;
  recordsCompleted: number;
}

/** The part of the ClickHouse source the API uses. */
export type EstimatingSource = Pick<ClickHouseSource, 'estimate' | 'firstDataAt'>;

@injectable()
export class BackfillService {
  constructor(
    @inject(DATA_SOURCE) private readonly ds: DataSource,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(SOURCE, { isOptional: true }) private readonly source: EstimatingSource | undefined,
  ) {}

  async list(teamId: number, batchExportId: string): Promise<BackfillEntity[]> {
    await loadExport(this.ds.manager, teamId, batchExportId);
    return this.ds.getRepository(BackfillEntity).find({ where: { teamId, batchExportId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  get(teamId: number, id: string): Promise<BackfillEntity> {
    return loadBackfill(this.ds.manager, teamId, id);
  }

  async progress(backfillId: string): Promise<BackfillProgress> {
    const [row] = await this.ds.query(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status IN ('Completed', 'Failed', 'Cancelled', 'TimedOut'))::int AS finished,
              count(*) FILTER (WHERE status IN ('Failed', 'TimedOut'))::int AS failed,
              coalesce(sum(records_completed), 0)::bigint AS records
       FROM runs WHERE backfill_id = $1`,
      [backfillId],
    );
    return { totalRuns: row.total, finishedRuns: row.finished, failedRuns: row.failed, recordsCompleted: Number(row.records) };
  }

  async estimate(
    teamId: number,
    batchExportId: string,
    startAt: Date | null | undefined,
    endAt: Date,
    fromFirstEvent = false,
  ): Promise<Omit<BackfillEstimate, 'rows' | 'bytes'> & { rows: number | null; bytes: number | null }> {
    const e = await loadExport(this.ds.manager, teamId, batchExportId);
    const { start, end } = this.checkRange(e, await this.startOf(e, startAt, endAt, fromFirstEvent), endAt, this.clock.now());
    return this.estimateFor(e, start, end);
  }

  /** Creates a backfill and publishes its runs after commit. */
  async create(teamId: number, batchExportId: string, startAt: Date | null | undefined, endAt: Date, fromFirstEvent = false): Promise<BackfillEntity> {
    let touched: Touched = { runs: [], backfills: [] };
    await this.ds.transaction(async (m) => {
      const e = await loadExport(m, teamId, batchExportId, { lock: true });
      touched = await this.createIn(m, teamId, e, await this.startOf(e, startAt, endAt, fromFirstEvent), endAt, this.clock.now());
    });
    await publishTouched(this.ds, touched);
    return this.get(teamId, touched.backfills[0].id);
  }

  /**
   * Inside the caller's transaction: checks the range and the team's cap, inserts the backfill (Starting) and one
   * Starting run per interval, and enqueues them oldest first.
   */
  async createIn(m: EntityManager, teamId: number, e: BatchExportEntity, startAt: Date, endAt: Date, now: Date): Promise<Touched> {
    const { start, end } = this.checkRange(e, startAt, endAt, now);
    const intervals = splitRange(scheduleOf(e), start, end);
    // Serialises concurrent backfill creation per team, so the cap cannot be overrun by a race.
    const [team] = await m.query(`SELECT max_concurrent_backfills AS cap FROM teams WHERE id = $1 FOR UPDATE`, [teamId]);
    const [{ active }] = await m.query(
      `SELECT count(*)::int AS active FROM backfills WHERE team_id = $1 AND status IN ('Starting', 'Running')`,
      [teamId],
    );
    if (active >= team.cap) {
      throw tooManyRequests(`This team already has ${active} backfill(s) starting or running (limit ${team.cap}); wait for one to finish or cancel one`);
    }
    const estimate = await this.estimateFor(e, start, end, intervals.length);
    const backfill = await m.getRepository(BackfillEntity).save(
      m.getRepository(BackfillEntity).create({
        teamId,
        batchExportId: e.id,
        startAt: start,
        endAt: end,
        status: 'Starting',
        totalRuns: intervals.length,
        // rows/bytes stay null when no source could estimate them (null is not zero).
        estimate: estimate as BackfillEstimate,
      }),
    );
    const inserted: { id: string }[] = await m.query(
      `INSERT INTO runs (team_id, batch_export_id, backfill_id, interval_start, interval_end, status, trigger)
       SELECT $1, $2, $3, s, e, 'Starting', 'backfill' FROM unnest($4::timestamptz[], $5::timestamptz[]) WITH ORDINALITY AS i(s, e, n)
       ORDER BY n RETURNING id`,
      [teamId, e.id, backfill.id, intervals.map((i) => i.start), intervals.map((i) => i.end)],
    );
    const runs = inserted.length
      ? await m.getRepository(RunEntity).createQueryBuilder('r').where('r.backfill_id = :id', { id: backfill.id }).orderBy('r.interval_start', 'ASC').getMany()
      : [];
    for (const run of runs) await enqueueRun(m, run);
    if (runs.length === 0) {
      backfill.status = 'Completed';
      backfill.finishedAt = now;
      await m.getRepository(BackfillEntity).save(backfill);
    }
    return { runs, backfills: [backfill] };
  }

  async cancel(teamId: number, id: string): Promise<BackfillEntity> {
    const touched: Touched = { runs: [], backfills: [] };
    const saved = await this.ds.transaction(async (m) => {
      const b = await loadBackfill(m, teamId, id, { lock: true });
      if (b.status !== 'Starting' && b.status !== 'Running') throw badInput('id', `backfill is already ${b.status}`);
      const now = this.clock.now();
      b.status = 'Cancelled';
      b.finishedAt = now;
      await m.getRepository(BackfillEntity).save(b);
      touched.runs = await cancelActiveRuns(m, { backfillId: b.id }, now);
      touched.backfills = [b];
      return b;
    });
    await publishTouched(this.ds, touched);
    return saved;
  }

  /**
   * The requested start: startAt, or with fromFirstEvent the start of the export's interval holding the team's
   * first data of the export's model (a custom query export reads its model's tables, so the same rule applies).
   */
  private async startOf(e: BatchExportEntity, startAt: Date | null | undefined, endAt: Date, fromFirstEvent: boolean): Promise<Date> {
    if (!fromFirstEvent) {
      if (startAt == null) throw badInput('startAt', 'is required unless fromFirstEvent is true');
      return startAt;
    }
    if (startAt != null) throw badInput('fromFirstEvent', 'sets the start to the first data; leave startAt out, or set fromFirstEvent to false');
    if (!this.source) throw badInput('fromFirstEvent', 'needs the ClickHouse source, which this server has not configured; give startAt instead');
    const first = await this.source.firstDataAt(e.teamId, e.model);
    if (!first) throw badInput('fromFirstEvent', `this team has no ${e.model} data in ClickHouse yet; give startAt instead`);
    if (endAt instanceof Date && first >= endAt) {
      throw badInput('fromFirstEvent', `this team's first ${e.model} data is at ${first.toISOString()}, not before endAt (${endAt.toISOString()})`);
    }
    return intervalContaining(scheduleOf(e), first).start;
  }

  /** Validates a requested range: not in the future, ordered, capped by the export's end, not too many runs. */
  private checkRange(e: BatchExportEntity, startAt: Date, endAt: Date, now: Date): { start: Date; end: Date } {
    if (!(startAt instanceof Date) || Number.isNaN(startAt.getTime())) throw badInput('startAt', 'must be a valid date-time');
    if (!(endAt instanceof Date) || Number.isNaN(endAt.getTime())) throw badInput('endAt', 'must be a valid date-time');
    if (endAt <= startAt) throw badInput('endAt', `must be after startAt (${startAt.toISOString()})`);
    if (endAt > now) throw badInput('endAt', `must not be in the future (now is ${now.toISOString()}); future intervals are exported by the schedule`);
    const end = e.endAt && e.endAt < endAt ? e.endAt : endAt;
    if (end <= startAt) throw badInput('startAt', `the export ends at ${e.endAt!.toISOString()}; nothing to backfill after that`);
    const count = intervalCount(scheduleOf(e), startAt, end);
    if (count > MAX_BACKFILL_RUNS) {
      throw badInput('startAt', `the range spans ${count} ${e.interval} intervals; one backfill may create at most ${MAX_BACKFILL_RUNS} runs, split the range`);
    }
    return { start: startAt, end };
  }

  private async estimateFor(e: BatchExportEntity, start: Date, end: Date, runs?: number) {
    const count = runs ?? intervalCount(scheduleOf(e), start, end);
    let rows: number | null = null;
    let bytes: number | null = null;
    if (this.source) {
      const est = await this.source.estimate({
        teamId: e.teamId,
        model: e.model,
        interval: { start, end },
        includeEvents: e.includeEvents,
        excludeEvents: e.excludeEvents,
        filters: e.filters as unknown as PropertyFilter[],
      });
      rows = est.rows;
      bytes = est.bytes;
    }
    const measured = await exportThroughput(this.ds, e.id);
    const secondsPerRun = measured?.secondsPerRun ?? ESTIMATE_SECONDS_PER_RUN;
    const rowsPerSecond = measured?.rowsPerSecond ?? ESTIMATE_ROWS_PER_SECOND;
    return {
      runs: count,
      rows,
      bytes,
      seconds: count * secondsPerRun + (rows ?? 0) / rowsPerSecond,
      secondsPerRun,
      rowsPerSecond,
      calibrationRuns: measured?.runs ?? 0,
    };
  }
}
