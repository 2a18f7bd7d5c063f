/**
 * Runs: listing, retry and cancel. A retry re-queues the same run row (it re-executes with the export's CURRENT
 * config); a cancel of a queued run takes effect at once, of a running run is a request the worker honours.
 */
import { inject, injectable } from 'tsyringe';
import type { DataSource, EntityManager } from 'typeorm';
import { FINISHED_RUN_STATUSES, RunEntity, type RunStatus } from '../store/entities';
import { CLOCK, DATA_SOURCE, type Clock } from '../tokens';
import { enqueueRun, publishRun } from '../worker/run-queue';
import { badInput } from './errors';
import { loadExport, loadRun } from './lookup';
import { isoMicros, keysetPage, toConnection, type Connection, type PageArgs } from './pagination';

export interface RunFilter extends PageArgs {
  batchExportId: string;
  status?: RunStatus[] | null;
  intervalFrom?: Date | null;
  intervalTo?: Date | null;
  orderBy?: 'interval_start' | 'created_at' | null;
}

/** Statuses a cancel ends at once: nothing is executing them. */
const QUEUED: RunStatus[] = ['Starting', 'FailedRetryable'];

/**
 * Cancels the queued runs matching `where` (and removes their jobs) and flags the running ones for the worker.
 * Returns every run it changed, for publishing after commit.
 */
export async function cancelActiveRuns(m: EntityManager, where: { batchExportId?: string; backfillId?: string }, now: Date): Promise<RunEntity[]> {
  const [column, value] = where.backfillId ? ['backfill_id', where.backfillId] : ['batch_export_id', where.batchExportId];
  const [queued] = await m.query(
    `UPDATE runs SET status = 'Cancelled', finished_at = $2, next_attempt_at = NULL
     WHERE ${column} = $1 AND status = ANY($3::text[]) RETURNING id`,
    [value, now, QUEUED],
  );
  for (const { id } of queued as { id: string }[]) await m.query(`SELECT graphile_worker.remove_job($1)`, [`run:${id}`]);
  const [running] = await m.query(
    `UPDATE runs SET cancel_requested_at = $2 WHERE ${column} = $1 AND status = 'Running' AND cancel_requested_at IS NULL RETURNING id`,
    [value, now],
  );
  const ids = [...(queued as { id: string }[]), ...(running as { id: string }[])].map((r) => r.id);
  return ids.length ? m.getRepository(RunEntity).createQueryBuilder('r').where('r.id IN (:...ids)', { ids }).getMany() : [];
}

/** What "retry all failed in range" retries: runs that ended without exporting their interval. */
const RETRYABLE_BY_RANGE: RunStatus[] = ['Failed', 'TimedOut'];

/** Puts a finished run back in the queue with a clean slate (inside the caller's transaction, the run locked). */
async function requeueFinishedRun(m: EntityManager, r: RunEntity): Promise<void> {
  Object.assign(r, {
    status: 'Starting',
    trigger: 'retry',
    attempt: 0,
    latestError: null,
    errorKind: null,
    cancelRequestedAt: null,
    finishedAt: null,
    nextAttemptAt: null,
  } satisfies Partial<RunEntity>);
  await m.getRepository(RunEntity).save(r);
  await enqueueRun(m, r);
  if (r.backfillId) {
    // A finished backfill whose run is retried is running again until that run ends (a cancelled one stays so).
    await m.query(`UPDATE backfills SET status = 'Running', finished_at = NULL WHERE id = $1 AND status IN ('Completed', 'Failed')`, [r.backfillId]);
  }
}

@injectable()
export class RunService {
  constructor(
    @inject(DATA_SOURCE) private readonly ds: DataSource,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(teamId: number, f: RunFilter): Promise<Connection<RunEntity>> {
    await loadExport(this.ds.manager, teamId, f.batchExportId);
    const page = keysetPage(f);
    const col = f.orderBy === 'created_at' ? 'r.created_at' : 'r.interval_start';
    if (f.intervalFrom && f.intervalTo && f.intervalFrom >= f.intervalTo) throw badInput('intervalTo', 'must be after intervalFrom');
    const q = this.ds
      .getRepository(RunEntity)
      .createQueryBuilder('r')
      .addSelect(isoMicros(col), 'sort_value')
      .where('r.team_id = :teamId AND r.batch_export_id = :exportId', { teamId, exportId: f.batchExportId })
      .orderBy(col, page.order)
      .addOrderBy('r.id', page.order)
      .limit(page.limit + 1);
    if (f.status?.length) q.andWhere('r.status IN (:...status)', { status: f.status });
    // Runs overlapping [intervalFrom, intervalTo).
    if (f.intervalFrom) q.andWhere('r.interval_end > :from', { from: f.intervalFrom });
    if (f.intervalTo) q.andWhere('r.interval_start < :to', { to: f.intervalTo });
    const counter = q.clone();
    if (page.cursor) q.andWhere(`(${col}, r.id) ${page.pastCursor} (:ts::timestamptz, :id::uuid)`, { ts: page.cursor.sortValue, id: page.cursor.id });
    const { entities, raw } = await q.getRawAndEntities();
    const sortById = new Map(raw.map((r: Record<string, string>) => [r.r_id, r.sort_value]));
    return toConnection(entities.map((e) => ({ node: e, id: e.id, sortValue: sortById.get(e.id)! })), page, () => counter.getCount());
  }

  get(teamId: number, id: string): Promise<RunEntity> {
    return loadRun(this.ds.manager, teamId, id);
  }

  async retry(teamId: number, id: string): Promise<RunEntity> {
    const run = await this.ds.transaction(async (m) => {
      const r = await loadRun(m, teamId, id, { lock: true });
      if (!FINISHED_RUN_STATUSES.includes(r.status)) {
        throw badInput('id', `run is ${r.status}; only finished runs (Completed, Failed, Cancelled, TimedOut) can be retried`);
      }
      await loadExport(m, teamId, r.batchExportId).catch(() => {
        throw badInput('id', 'the run\'s batch export was deleted');
      });
      await requeueFinishedRun(m, r);
      return r;
    });
    await publishRun(this.ds, run);
    return run;
  }

  /**
   * Retries every Failed or TimedOut run of the export overlapping [startAt, endAt) (the runs query's interval
   * filter), as retry() does each, in one transaction. Returns how many. A paused export is refused: its runs would
   * only wait for the unpause.
   */
  async retryFailed(teamId: number, batchExportId: string, startAt: Date, endAt: Date): Promise<number> {
    if (!(endAt > startAt)) throw badInput('endAt', `must be after startAt (${startAt.toISOString()})`);
    const runs = await this.ds.transaction(async (m) => {
      const e = await loadExport(m, teamId, batchExportId, { lock: true });
      if (e.paused) throw badInput('batchExportId', 'the export is paused; unpause it first, then retry its failed runs');
      const failed = await m
        .getRepository(RunEntity)
        .createQueryBuilder('r')
        .setLock('pessimistic_write')
        .where('r.team_id = :teamId AND r.batch_export_id = :exportId AND r.status IN (:...status)', { teamId, exportId: e.id, status: RETRYABLE_BY_RANGE })
        .andWhere('r.interval_end > :from AND r.interval_start < :to', { from: startAt, to: endAt })
        .orderBy('r.interval_start', 'ASC')
        .getMany();
      for (const r of failed) await requeueFinishedRun(m, r);
      return failed;
    });
    for (const r of runs) await publishRun(this.ds, r);
    return runs.length;
  }

  async cancel(teamId: number, id: string): Promise<RunEntity> {
    const run = await this.ds.transaction(async (m) => {
      const r = await loadRun(m, teamId, id, { lock: true });
      const now = this.clock.now();
      if (QUEUED.includes(r.status)) {
        r.status = 'Cancelled';
        r.finishedAt = now;
        r.nextAttemptAt = null;
        await m.getRepository(RunEntity).save(r);
        await m.query(`SELECT graphile_worker.remove_job($1)`, [`run:${r.id}`]);
      } else if (r.status === 'Running') {
        if (!r.cancelRequestedAt) {
          r.cancelRequestedAt = now;
          await m.getRepository(RunEntity).save(r);
        }
      } else {
        throw badInput('id', `run is already ${r.status}; only Starting, FailedRetryable or Running runs can be cancelled`);
      }
      return r;
    });
    await publishRun(this.ds, run);
    return run;
  }
}
