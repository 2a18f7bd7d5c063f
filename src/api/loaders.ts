/**
 * Per-request batching with `dataloader`: a list of 100 exports asking each for its destination and latest runs
 * would otherwise cost 200 queries. Loaders are created for each request (createLoaders in the context), so
 * their cache never outlives it nor crosses teams.
 */
import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { DestinationEntity, RunAttemptEntity, RunEntity } from '../store/entities';
import { notFound } from './errors';

/** Most runs latestRuns answers, whatever limit is asked. */
const LATEST_RUNS_MAX = 100;

export interface ApiLoaders {
  destination: (id: string) => Promise<DestinationEntity>;
  latestRuns: (batchExportId: string, limit: number) => Promise<RunEntity[]>;
  /** A run's attempts, oldest first. */
  runAttempts: (runId: string) => Promise<RunAttemptEntity[]>;
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/**
 * `cache: false` for a subscription: its context lives as long as the subscription, and each event must read
 * the current attempts and destination; loads are still batched within one event.
 */
export function createLoaders(ds: DataSource, teamId: number, options: { cache?: boolean } = {}): ApiLoaders {
  const cache = options.cache ?? true;
  const destinations = new DataLoader<string, DestinationEntity>(async (ids) => {
    const found = await ds.getRepository(DestinationEntity).findBy({ teamId, id: In([...ids]) });
    const byId = new Map(found.filter((d) => !d.deletedAt).map((d) => [d.id, d]));
    return ids.map((id) => byId.get(id) ?? notFound('Destination', id));
  }, { cache });

  // One query for every export's latest runs: the largest limit asked, each answer cut to its own limit.
  const latestRuns = new DataLoader<{ id: string; limit: number }, RunEntity[], string>(
    async (keys) => {
      const limit = Math.max(0, Math.min(LATEST_RUNS_MAX, ...keys.map((k) => k.limit)));
      const rows: RunEntity[] = limit
        ? await ds
            .getRepository(RunEntity)
            .createQueryBuilder('r')
            .where(
              `r.id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY batch_export_id ORDER BY interval_start DESC, created_at DESC) AS n
                 FROM runs WHERE team_id = :teamId AND batch_export_id = ANY(:ids)) ranked WHERE n <= :limit)`,
              { teamId, ids: [...new Set(keys.map((k) => k.id))], limit },
            )
            .orderBy('r.interval_start', 'DESC')
            .addOrderBy('r.created_at', 'DESC')
            .getMany()
        : [];
      const byExport = groupBy(rows, (r) => r.batchExportId);
      return keys.map((k) => (byExport.get(k.id) ?? []).slice(0, Math.max(0, Math.min(k.limit, LATEST_RUNS_MAX))));
    },
    { cache, cacheKeyFn: (k) => `${k.id}:${k.limit}` },
  );

  const attempts = new DataLoader<string, RunAttemptEntity[]>(async (runIds) => {
    const rows = await ds
      .getRepository(RunAttemptEntity)
      .createQueryBuilder('a')
      .where('a.team_id = :teamId AND a.run_id = ANY(:ids)', { teamId, ids: [...runIds] })
      .orderBy('a.started_at', 'ASC')
      .getMany();
    const byRun = groupBy(rows, (a) => a.runId);
    return runIds.map((id) => byRun.get(id) ?? []);
  }, { cache });

  return {
    destination: (id) => destinations.load(id),
    latestRuns: (id, limit) => latestRuns.load({ id, limit }),
    runAttempts: (id) => attempts.load(id),
  };
}
