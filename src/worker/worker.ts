/**
 * The worker role: graphile-worker job slots executing `execute_run` jobs from the metadata Postgres. Any number of
 * these, on any number of machines, share the work; graphile-worker's named queues bound how many runs of one
 * export execute at once (its lanes, see run-queue.ts: persons and sessions one at a time, in interval order).
 *
 * Each slot is its own graphile-worker runner (concurrency 1) under a supervisor, because graphile-worker 0.16
 * drops a slot for good when it cannot record a job's completion (store unreachable: "committing seppuku"), and
 * never replaces it ("pool is in continuous mode"). The supervisor restarts such a slot under a new worker id once
 * the store answers, after releasing the job the dead slot still holds. Slots share one pg pool.
 *
 * The process heartbeats a `worker_processes` row listing its slots' worker ids; the reaper (run here too) releases
 * locks held by ids no live process lists.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Logger as GraphileLogger, run as runGraphile, type Runner, type Task } from 'graphile-worker';
import { Pool } from 'pg';
import type { ReadinessCheck } from '../health';
import type { Logger } from '../logger';
import { isStoreUnavailable, sleep, StoreReachability } from '../store/availability';
import { executeRun, type ExecutorDeps } from './execute-run';
import { forgetWorkerProcess, pruneWorkerProcesses, reap, recordWorkerProcess } from './reaper';
import { EXECUTE_RUN_TASK } from './run-queue';
import { deliverNotification } from '../notifications/deliver';
import { DELIVER_NOTIFICATION_TASK } from '../notifications/outbox';
import { parseNetworkPolicy } from '../plugins/network-policy';

export interface WorkerHandle {
  /** This process's id in `worker_processes`; its slots' graphile-worker ids start with it. */
  processId: string;
  /** Not ready while a slot is down or the store does not answer the process heartbeat. */
  readiness: ReadinessCheck;
  stop(): Promise<void>;
}

export interface WorkerRoleOptions {
  databaseUrl: string;
  concurrency: number;
  /** How often the process row is refreshed. Default: the run heartbeat interval. */
  processHeartbeatMs?: number;
  /** A process (or run) silent this long is dead: its locks are released. */
  heartbeatTimeoutSeconds: number;
  /** Longest wait between attempts to restart a slot while the store is down. Default: 30 000 ms. */
  maxRestartDelayMs?: number;
}

interface Slot {
  workerId: string;
  running: boolean;
  runner?: Runner;
}

export async function startWorker(deps: ExecutorDeps & WorkerRoleOptions): Promise<WorkerHandle> {
  const log = deps.log;
  const processId = `outport-${os.hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const shutdown = new AbortController();
  const reach = new StoreReachability(log, 'worker');
  const pool = new Pool({ connectionString: deps.databaseUrl, max: deps.concurrency * 2 + 2, application_name: 'outport-worker' });
  // Without a listener, an idle client's connection error (store restarted) is an uncaught 'error' event. The pool
  // listens only while a client is idle: one it is ending (idle timeout, shutdown) can still be cut before its
  // socket closes, so every client gets a listener of its own too (a query's errors still reach its caller).
  pool.on('error', (err) => reach.down(err));
  pool.on('connect', (client) => client.on('error', (err) => reach.down(err)));

  const task: Task = async (payload, helpers) => {
    const { runId } = payload as { runId: string };
    await executeRun(deps, runId, helpers.job.locked_by ?? processId, shutdown.signal);
  };
  const notificationDeps = { ds: deps.ds, log, secrets: deps.secrets, network: parseNetworkPolicy(deps.options.destinationNetworks) };
  const deliverTask: Task = async (payload, helpers) => {
    const { notificationId } = payload as { notificationId: string };
    await deliverNotification(notificationDeps, notificationId, helpers.job.attempts >= helpers.job.max_attempts);
  };
  const slots: Slot[] = Array.from({ length: deps.concurrency }, () => ({ workerId: '', running: false }));
  /** Worker ids of slots that died holding a job: released before their replacement starts. */
  const deadWorkerIds = new Set<string>();

  const heartbeat = async () => {
    try {
      await recordWorkerProcess(deps.ds, { id: processId, graphileWorkerIds: slots.map((s) => s.workerId).filter(Boolean) });
      reach.up();
    } catch (err) {
      if (isStoreUnavailable(err)) reach.down(err);
      else log.error({ err: String(err) }, 'worker process heartbeat failed');
    }
  };

  async function superviseSlot(index: number, firstAttemptDone: () => void): Promise<void> {
    const slot = slots[index];
    let generation = 0;
    let delay = 500;
    let waitingLogged = false;
    while (!shutdown.signal.aborted) {
      slot.workerId = `${processId}-s${index}-g${++generation}`;
      let runner: Runner;
      try {
        if (deadWorkerIds.size) {
          const ids = [...deadWorkerIds];
          await pool.query(`SELECT graphile_worker.force_unlock_workers($1::text[])`, [ids]);
          for (const id of ids) deadWorkerIds.delete(id);
          log.warn({ workerIds: ids }, 'released the jobs held by dead worker slots');
        }
        await heartbeat(); // the new id is listed before it can lock anything
        runner = await runGraphile({
          pgPool: pool,
          concurrency: 1,
          workerId: slot.workerId,
          noHandleSignals: true,
          pollInterval: 1000,
          logger: graphileLogger(log),
          taskList: { [EXECUTE_RUN_TASK]: task, [DELIVER_NOTIFICATION_TASK]: deliverTask },
        } as Parameters<typeof runGraphile>[0]);
      } catch (err) {
        firstAttemptDone();
        if (!waitingLogged) {
          log.warn({ slot: index, err: String(err) }, 'worker slot cannot start: waiting for the metadata store');
          waitingLogged = true;
        }
        await sleep(delay, shutdown.signal);
        delay = Math.min(deps.maxRestartDelayMs ?? 30_000, delay * 2);
        continue;
      }
      if (waitingLogged || generation > 1) log.info({ slot: index, workerId: slot.workerId }, 'worker slot running again');
      waitingLogged = false;
      delay = 500;
      slot.runner = runner;
      slot.running = true;
      firstAttemptDone();
      const slotError = await new Promise<unknown>((resolve) => {
        runner.events.on('worker:stop', ({ error }) => resolve(error ?? new Error('the job slot stopped')));
        runner.promise.then(() => resolve(new Error('the runner stopped')), resolve);
        shutdown.signal.addEventListener('abort', () => resolve(undefined), { once: true });
      });
      slot.running = false;
      if (shutdown.signal.aborted) return;
      log.error(
        { slot: index, workerId: slot.workerId, err: String(slotError) },
        'worker slot died (it could not record a job outcome in the metadata store); restarting it',
      );
      deadWorkerIds.add(slot.workerId);
      slot.runner = undefined;
      await runner.stop().catch((err) => log.warn({ err: String(err) }, 'stopping the dead slot\'s runner failed'));
    }
  }

  await heartbeat();
  // Started (or found waiting for the store) before boot returns, so a process reported up is ready.
  const firstAttempts = slots.map(() => {
    let done!: () => void;
    const promise = new Promise<void>((resolve) => (done = resolve));
    return { promise, done };
  });
  const supervisors = slots.map((_, i) => superviseSlot(i, firstAttempts[i].done));
  await Promise.all(firstAttempts.map((f) => f.promise));
  const heartbeatTimer = setInterval(() => void heartbeat(), deps.processHeartbeatMs ?? deps.options.heartbeatMs);

  const timeoutMs = deps.heartbeatTimeoutSeconds * 1000;
  let reaping = false;
  const reaperTimer = setInterval(() => {
    // Nobody could heartbeat during an outage: give every process a timeout to be heard again before judging it.
    if (reaping || !reach.reachable || (reach.recoveredAt && Date.now() - reach.recoveredAt < timeoutMs)) return;
    reaping = true;
    reap(deps.ds, log, deps.heartbeatTimeoutSeconds)
      .then(() => pruneWorkerProcesses(deps.ds))
      .catch((err) => (isStoreUnavailable(err) ? reach.down(err) : log.warn({ err: String(err) }, 'reaper failed')))
      .finally(() => (reaping = false));
  }, Math.max(1000, Math.min(15_000, timeoutMs / 4)));

  return {
    processId,
    readiness: () => {
      if (!reach.reachable) return reach.reason;
      const running = slots.filter((s) => s.running).length;
      return running < slots.length ? `${running} of ${slots.length} job slots running (the others wait for the metadata store)` : undefined;
    },
    async stop() {
      shutdown.abort();
      clearInterval(heartbeatTimer);
      clearInterval(reaperTimer);
      await Promise.all(slots.map((s) => s.runner?.stop().catch((err) => log.warn({ err: String(err) }, 'stopping a worker slot failed'))));
      await Promise.all(supervisors);
      await forgetWorkerProcess(deps.ds, processId).catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

function graphileLogger(log: Logger): GraphileLogger {
  const child = log.child({ component: 'graphile-worker' });
  return new GraphileLogger(() => (level, message, meta) => {
    const lvl = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    child[lvl](meta ?? {}, message);
  });
}
