/**
 * Subscription sources over the cross-process change feed (Postgres LISTEN/NOTIFY): a change made by any
 * process (worker, scheduler, another API) reaches every subscriber. Each source filters by the subscriber's
 * team first, then re-reads the current state from the store, so payloads are never stale or partial.
 */
import { inject, injectable } from 'tsyringe';
import type { DataSource } from 'typeorm';
import { BackfillEntity, RunEntity } from '../store/entities';
import type { BackfillChange, Change, ChangeListener, RunChange } from '../store/event-bus';
import { DATA_SOURCE } from '../tokens';
import { CHANGE_FEED } from './context';
import { loadBackfill, loadExport } from './lookup';

/**
 * Maps an async iterator, skipping values mapped to undefined. `return()` reaches the source at once (an async
 * generator would wait for the pending `next()`, which for a quiet feed never settles, leaking the listener).
 */
export function mapChanges<T, U>(source: AsyncIterableIterator<T>, map: (value: T) => Promise<U | undefined>): AsyncIterableIterator<U> {
  const it: AsyncIterableIterator<U> = {
    async next() {
      for (;;) {
        const r = await source.next();
        if (r.done) return { value: undefined, done: true };
        const mapped = await map(r.value);
        if (mapped !== undefined) return { value: mapped, done: false };
      }
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

@injectable()
export class SubscriptionService {
  constructor(
    @inject(DATA_SOURCE) private readonly ds: DataSource,
    @inject(CHANGE_FEED) private readonly feed: ChangeListener,
  ) {}

  async runUpdates(teamId: number, batchExportId?: string | null): Promise<AsyncIterableIterator<RunEntity>> {
    if (batchExportId) await loadExport(this.ds.manager, teamId, batchExportId);
    const changes = this.feed.iterate(
      (c: Change): c is RunChange => c.kind === 'run' && c.teamId === teamId && (!batchExportId || c.batchExportId === batchExportId),
    );
    return mapChanges(changes, async (c) => (await this.ds.getRepository(RunEntity).findOneBy({ id: c.runId, teamId })) ?? undefined);
  }

  async backfillUpdates(teamId: number, backfillId: string): Promise<AsyncIterableIterator<BackfillEntity>> {
    await loadBackfill(this.ds.manager, teamId, backfillId);
    const changes = this.feed.iterate(
      (c: Change): c is BackfillChange => c.kind === 'backfill' && c.teamId === teamId && c.backfillId === backfillId,
    );
    return mapChanges(changes, async () => (await this.ds.getRepository(BackfillEntity).findOneBy({ id: backfillId, teamId })) ?? undefined);
  }
}
