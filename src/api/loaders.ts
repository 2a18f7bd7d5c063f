/**
 * Per-request batching: a list of 100 exports asking each for its destination and latest runs would otherwise
 * cost 200 queries. graphql-js calls all sibling resolvers before awaiting any, so loads queued in the same turn
 * of the event loop are answered by one query each.
 */
import { In, type DataSource } from 'typeorm';
import { DestinationEntity, RunAttemptEntity, RunEntity } from '../store/entities';
import { notFound } from './errors';

class Batcher<K, V> {
  private queue: { key: K; resolve: (v: V) => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly fetch: (keys: K[]) => Promise<(k: K) => V>) {}

  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      if (this.queue.push({ key, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      const answer = await this.fetch(batch.map((b) => b.key));
      for (const b of batch) {
        try {
          b.resolve(answer(b.key));
        } catch (err) {
          b.reject(err);
        }
      }
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}

export interface ApiLoaders {
  destination: (id: string) => Promise<DestinationEntity>;
  latestRuns: (batchExportId: string, limit: number) => Promise<RunEntity[]>;
  /** A run's attempts, oldest first. */
  runAttempts: (runId: string) => Promise<RunAttemptEntity[]>;
}

export function createLoaders(ds: DataSource, teamId: number): ApiLoaders {
  const destinations = new Batcher<string, DestinationEntity>(async (ids) => {
    const found = await ds.getRepository(DestinationEntity).findBy({ teamId, id: In([...new Set(ids)]) });
    const byId = new Map(found.filter((d) => !d.deletedAt).map((d) => [d.id, d]));
    return (id) => {
      const d = byId.get(id);
      if (!d) throw notFound('Destination', id);
      return d;
    };
  });
  const runs = new Batcher<{ id: string; limit: number }, RunEntity[]>(async (keys) => {
    const limit = Math.max(0, Math.min(100, ...keys.map((k) => k.limit)));
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
    const byExport = new Map<string, RunEntity[]>();
    for (const r of rows) byExport.set(r.batchExportId, [...(byExport.get(r.batchExportId) ?? []), r]);
    return (k) => (byExport.get(k.id) ?? []).slice(0, Math.max(0, Math.min(k.limit, 100)));
  });
  const attempts = new Batcher<string, RunAttemptEntity[]>(async (runIds) => {
    const rows = await ds
      .getRepository(RunAttemptEntity)
      .createQueryBuilder('a')
      .where('a.team_id = :teamId AND a.run_id = ANY(:ids)', { teamId, ids: [...new Set(runIds)] })
      .orderBy('a.started_at', 'ASC')
      .getMany();
    const byRun = new Map<string, RunAttemptEntity[]>();
    for (const a of rows) byRun.set(a.runId, [...(byRun.get(a.runId) ?? []), a]);
    return (id) => byRun.get(id) ?? [];
  });
  return {
    runAttempts: (id) => attempts.load(id),
    destination: (id) => destinations.load(id),
    latestRuns: (id, limit) => runs.load({ id, limit }),
  };
}
