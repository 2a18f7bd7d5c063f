/**
 * The worker role: a graphile-worker runner executing `execute_run` jobs from the metadata Postgres. Any number of
 * these, on any number of machines, share the work; graphile-worker's named queues keep one export's runs serial.
 */
import { randomUUID } from 'node:crypto';
import { Logger as GraphileLogger, run as runGraphile, type Runner, type Task } from 'graphile-worker';
import type { Logger } from '../logger';
import { executeRun, type ExecutorDeps } from './execute-run';
import { EXECUTE_RUN_TASK } from './run-queue';

export interface WorkerHandle {
  stop(): Promise<void>;
}

export async function startWorker(deps: ExecutorDeps & { databaseUrl: string; concurrency: number }): Promise<WorkerHandle> {
  const shutdown = new AbortController();
  const task: Task = async (payload, helpers) => {
    const { runId } = payload as { runId: string };
    const workerId = helpers.job.locked_by ?? `outport-${randomUUID()}`;
    await executeRun(deps, runId, workerId, shutdown.signal);
  };
  const runner: Runner = await runGraphile({
    connectionString: deps.databaseUrl,
    concurrency: deps.concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: graphileLogger(deps.log),
    taskList: { [EXECUTE_RUN_TASK]: task },
  });
  return {
    async stop() {
      shutdown.abort();
      await runner.stop();
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
