/** The scheduler role: a node-cron tick. Safe to run in several processes at once (see tick.ts). */
import cron from 'node-cron';
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { isStoreUnavailable, StoreReachability } from '../store/availability';
import type { Clock } from '../tokens';
import { notifyOverdue } from '../notifications/evaluate';
import { schedulerTick, type TickOptions } from './tick';

export function startScheduler(
  ds: DataSource,
  log: Logger,
  clock: Clock,
  expression: string,
  opts: TickOptions,
): { stop(): Promise<void>; readiness(): string | undefined } {
  let running: Promise<unknown> | undefined;
  // While the store is down every tick fails: logged once when it goes and once when it is back, not per tick.
  const reach = new StoreReachability(log, 'scheduler');
  const task = cron.schedule(expression, () => {
    if (running) return; // a slow tick is never overlapped by the next one
    const started = Date.now();
    running = schedulerTick(ds, clock, opts)
      .then((r) => {
        reach.up();
        if (r.runsCreated > 0) log.info({ exports: r.exports, runsCreated: r.runsCreated, ms: Date.now() - started }, 'scheduler tick created runs');
        for (const s of r.skipped) log.error({ batchExportId: s.id, error: s.error }, 'export skipped: its stored schedule is invalid');
        // Slow-run and stale-data notifications: nothing else notices a run that never ends or a schedule that stalls.
        return notifyOverdue(ds, clock.now()).then((n) => {
          if (n.slow || n.stale) log.info(n, 'queued slow-run and stale-data notifications');
        });
      })
      .catch((err) => (isStoreUnavailable(err) ? reach.down(err) : log.error({ err: String(err) }, 'scheduler tick failed')))
      .finally(() => (running = undefined));
  });
  return {
    readiness: () => reach.reason,
    async stop() {
      await task.stop();
      await running;
    },
  };
}
