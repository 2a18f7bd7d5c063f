/**
 * One attempt of one run: source -> destination plugin -> reconciled run state.
 *
 * Every write to the run row is conditioned on the attempt number this executor claimed, so a worker that was
 * presumed dead (stale heartbeat) and comes back cannot overwrite the state of the attempt that replaced it.
 */
import { layoutFields } from '../source/posthog-layout';
import type { DataSource } from 'typeorm';
import { teamLocalFilesDirectory } from '../config';
import type { Logger } from '../logger';
import { pluginLogger } from '../logger';
import type { PluginRegistry } from '../plugins';
import { classifyCommonError, DestinationError, findSourceError, isDestinationError, SourceError, type DestinationPlugin, type Model, type ModelSchema, type RecordBatch, type RunContext, type WireFormat } from '../sdk';
import type { ClickHouseSource, PropertyFilter, SourceQuery } from '../source';
import { CustomQueryError } from '../source/custom-query';
import { asSourceError } from '../source/source-error';
import { watchSourceFailures } from './watched-encoded-run';
import type { BatchExportEntity, DestinationEntity, RunEntity, RunStatus } from '../store/entities';
import { FINISHED_RUN_STATUSES } from '../store/entities';
import type { SecretBox } from '../store/secrets';
import { alertOnCompletion, alertOnFailure, type AutoPausePolicy } from './alerts';
import { holdWhilePaused } from './paused-runs';
import { retryDelayMs, type BackoffPolicy } from './backoff';
import { assertLocationsAllowed, resolveDestinationConfig } from './destination-config';
import { enqueueRun, publishRun, runConcurrency } from './run-queue';
import { describedReplacements, logReplacements, runLog, runPluginLogger, type RunLog } from './run-log';
import { ReplacementCounter } from '../sdk/replacements';
import { finishBackfillIfDone, markBackfillRunning } from './backfill-progress';
import { recordAttemptFinished, recordAttemptStarted } from './run-attempts';
import { isStoreUnavailable, retryThroughStoreOutage, sleep } from '../store/availability';
import type { ErrorSource, Metrics } from '../metrics';

/** What the executor needs from the source (ClickHouseSource implements it). */
export type RunSource = Pick<ClickHouseSource, 'count' | 'stream' | 'exportSchema'> & Partial<Pick<ClickHouseSource, 'encodedRun' | 'canEncode'>>;

export interface ExecutorOptions {
  backoff: BackoffPolicy;
  maxAttempts: number;
  heartbeatMs: number;
  batchSize: number;
  /** OUTPORT_LOCAL_FILES_ROOT: each team's plugins get its `team-<id>` folder as `localFilesDirectory`. */
  localFilesRoot?: string;
  autoPause: AutoPausePolicy;
  /** A run longer than this is stopped as TimedOut. Default: twice the interval, at least 30 minutes. */
  timeoutMs?: (run: RunEntity) => number;
  /** OUTPORT_DESTINATION_NETWORKS, checked again when a notification is sent. Default: everything allowed. */
  destinationNetworks?: string;
}

export interface ExecutorDeps {
  ds: DataSource;
  log: Logger;
  registry: PluginRegistry;
  source: RunSource;
  secrets: SecretBox;
  options: ExecutorOptions;
  /** Finished runs, rows, bytes, retries and errors are counted into it. */
  metrics?: Metrics;
}

type Outcome =
  | { status: 'Completed'; message: string }
  | { status: 'Failed' | 'TimedOut' | 'Cancelled'; error: string; kind?: string; errorSource?: ErrorSource }
  | { status: 'FailedRetryable'; error: string; kind: string; retryInMs: number; errorSource?: ErrorSource };

class StopSignal extends Error {
  constructor(readonly reason: 'cancelled' | 'timeout' | 'deleted' | 'superseded') {
    super(reason);
  }
}

/** How long a run whose export is at its limit waits in its lane before going to the back of the lane. */
const SLOT_WAIT_SECONDS = 30;

export async function executeRun(deps: ExecutorDeps, runId: string, workerId: string, shutdown?: AbortSignal): Promise<void> {
  // A run that finds its export at its limit (see claimRun) waits here, holding its lane, instead of going back to
  // the queue at once: that would make the lane cycle through every job it holds while the export stays full.
  // Each try re-reads the run and the export, so a pause, cancel or delete in the meantime is honoured.
  for (let waited = 0; ; waited++) {
    const busy = await executeRunOnce(deps, runId, workerId, shutdown);
    if (!busy) return;
    if (waited >= SLOT_WAIT_SECONDS || shutdown?.aborted) return enqueueRun(deps.ds, busy, new Date(Date.now() + 1000));
    await sleep(1000, shutdown);
  }
}

/** Returns the run when it could not be claimed because its export is at its limit. */
async function executeRunOnce(deps: ExecutorDeps, runId: string, workerId: string, shutdown?: AbortSignal): Promise<RunEntity | undefined> {
  const { ds } = deps;
  const run = await ds.getRepository<RunEntity>('RunEntity').findOneBy({ id: runId });
  if (!run || FINISHED_RUN_STATUSES.includes(run.status)) return;
  const exp = await ds.getRepository<BatchExportEntity>('BatchExportEntity').findOneBy({ id: run.batchExportId });
  const log = runLog(ds, deps.log, run);
  if (!exp || exp.deletedAt || run.cancelRequestedAt) {
    await finish(deps, run, run.attempt, { status: 'Cancelled', error: exp?.deletedAt ? 'Export deleted' : 'Cancelled by user' }, log);
    return;
  }
  if (exp.paused) {
    await holdWhilePaused(ds, deps.log, run); // see paused-runs.ts: no attempt, no retry, until unpaused
    return;
  }
  if (runConcurrency(exp) === 1 && (await waitForEarlierRun(deps, run))) return;

  const attempt = run.attempt + 1;
  const claim = await claimRun(deps, run, exp, attempt, workerId);
  if (claim === 'busy') return run;
  if (claim === 'superseded') return;
  Object.assign(run, { status: 'Running', attempt, startedAt: run.startedAt ?? new Date(), heartbeatAt: new Date(), workerId, recordsRead: 0, recordsCompleted: 0, bytesExported: 0, replacements: [] });
  await publishRun(ds, run);
  await recordAttemptStarted(ds, deps.log, run, workerId);
  if (run.backfillId) await markBackfillRunning(ds, run);
  await log.info(
    `Attempt ${attempt} started for ${run.intervalStart.toISOString()} – ${run.intervalEnd.toISOString()} (${exp.model}, trigger ${run.trigger}).`,
    { model: exp.model, trigger: run.trigger, intervalStart: run.intervalStart.toISOString(), intervalEnd: run.intervalEnd.toISOString() },
  );

  const outcome = await attemptExport(deps, run, exp, log, shutdown);
  await finish(deps, run, attempt, outcome, log, exp, shutdown);
}

/**
 * Marks the run Running for this attempt, unless the export already runs as many runs as it may at once (its lanes
 * bound that, but jobs queued before the limit was lowered or the model changed keep their lane) or runs one
 * whose interval overlaps this one (a backfill over scheduled runs: two loads of one interval at once could
 * both land). A run released by the reaper (worker_id emptied) no longer counts: nothing executes it.
 */
async function claimRun(deps: ExecutorDeps, run: RunEntity, exp: BatchExportEntity, attempt: number, workerId: string): Promise<'claimed' | 'busy' | 'superseded'> {
  return deps.ds.transaction(async (m) => {
    // Serialises the claims of one export's runs, so two workers cannot both see a free slot.
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('outport:claim:' || $1::text, 0))`, [exp.id]);
    const [busy] = await m.query(
      `SELECT count(*)::int AS running, count(*) FILTER (WHERE o.interval_start < $3 AND o.interval_end > $2)::int AS overlapping
       FROM runs o WHERE o.batch_export_id = $1 AND o.id <> $4 AND o.status = 'Running' AND o.worker_id IS NOT NULL`,
      [exp.id, run.intervalStart, run.intervalEnd, run.id],
    );
    if (busy.running >= runConcurrency(exp) || busy.overlapping > 0) return 'busy';
    const claimed = await m.query(
      `UPDATE runs SET status = 'Running', attempt = $2, started_at = COALESCE(started_at, now()), heartbeat_at = now(),
         worker_id = $3, next_attempt_at = NULL, records_read = 0, records_completed = 0, bytes_exported = 0, replacements = '[]'
       WHERE id = $1 AND attempt = $4 AND status NOT IN ('Completed', 'Failed', 'Cancelled', 'TimedOut') RETURNING *`,
      [run.id, attempt, workerId, run.attempt],
    );
    return claimed[1] === 0 ? 'superseded' : 'claimed';
  });
}

/**
 * Keeps the runs of an export that runs one at a time (persons, sessions, or a limit of 1) in interval order: a
 * later run waits while an earlier one is still pending or retrying.
 */
async function waitForEarlierRun(deps: ExecutorDeps, run: RunEntity): Promise<boolean> {
  const [blocker] = await deps.ds.query(
    `SELECT r.id, r.next_attempt_at FROM runs r
     WHERE r.batch_export_id = $1 AND r.id <> $2 AND r.interval_start < $3 AND r.status IN ('Starting', 'FailedRetryable')
       AND EXISTS (SELECT 1 FROM graphile_worker.jobs j WHERE j.key = 'run:' || r.id)
     ORDER BY r.interval_start LIMIT 1`,
    [run.batchExportId, run.id, run.intervalStart],
  );
  if (!blocker) return false;
  const after = new Date(Math.max(Date.now(), blocker.next_attempt_at ? new Date(blocker.next_attempt_at).getTime() : 0) + 1000);
  await enqueueRun(deps.ds, run, after);
  return true;
}

async function attemptExport(deps: ExecutorDeps, run: RunEntity, exp: BatchExportEntity, log: RunLog, shutdown?: AbortSignal): Promise<Outcome> {
  const { ds, source, options } = deps;
  const controller = new AbortController();
  let stop: StopSignal | undefined;
  const abort = (s: StopSignal) => {
    if (!stop) {
      stop = s;
      controller.abort(s);
    }
  };
  const onShutdown = () => controller.abort(new Error('worker shutting down'));
  shutdown?.addEventListener('abort', onShutdown, { once: true });
  const timeoutMs = options.timeoutMs?.(run) ?? Math.max(2 * (run.intervalEnd.getTime() - run.intervalStart.getTime()), 30 * 60_000);
  const timer = setTimeout(() => abort(new StopSignal('timeout')), timeoutMs);
  let rowsRead = 0;
  let rowsLanded = 0;
  let bytes = 0;
  let heartbeatFailing = false;
  // One beat at a time: on a slow store two overlapping beats could commit out of order, and readers would see
  // rows landed go down.
  let beating = false;
  const heartbeat = setInterval(() => {
    if (beating) return;
    beating = true;
    void beat()
      .then(
        () => {
          if (heartbeatFailing) deps.log.info({ runId: run.id }, 'run heartbeat recorded again');
          heartbeatFailing = false;
        },
        (err) => {
          // Once per outage, not every beat: the attempt goes on and records its outcome when the store is back.
          if (!heartbeatFailing) deps.log.warn({ err: String(err), runId: run.id, storeUnreachable: isStoreUnavailable(err) }, 'run heartbeat failed; the attempt goes on');
          heartbeatFailing = true;
        },
      )
      .finally(() => {
        beating = false;
      });
  }, options.heartbeatMs);
  async function beat() {
    const [row] = await ds.query(
      // Progress within an attempt only grows (a new attempt resets it with its own statement).
      `UPDATE runs SET heartbeat_at = now(), records_read = GREATEST(records_read, $3), bytes_exported = GREATEST(bytes_exported, $4),
         records_completed = GREATEST(records_completed, $5) WHERE id = $1 AND attempt = $2
       RETURNING cancel_requested_at, (SELECT deleted_at FROM batch_exports WHERE id = runs.batch_export_id) AS deleted_at`,
      [run.id, run.attempt, rowsRead, bytes, rowsLanded],
    );
    Object.assign(run, { recordsRead: rowsRead, recordsCompleted: rowsLanded, bytesExported: bytes, heartbeatAt: new Date() });
    await publishRun(ds, run);
    // No row: the run moved on to another attempt (this worker was presumed dead); stop rather than write beside it.
    if (Array.isArray(row) && row.length === 0) abort(new StopSignal('superseded'));
    else if (row?.[0]?.cancel_requested_at) abort(new StopSignal('cancelled'));
    else if (row?.[0]?.deleted_at) abort(new StopSignal('deleted'));
  }

  const query: SourceQuery = {
    teamId: run.teamId,
    model: exp.model,
    interval: { start: run.intervalStart, end: run.intervalEnd },
    includeEvents: exp.includeEvents,
    excludeEvents: exp.excludeEvents,
    filters: exp.filters as PropertyFilter[],
    fullSnapshot: exp.model === 'persons' && run.backfillId !== null && (await isFirstRunOfBackfill(ds, run)),
    ...(exp.fields?.length ? { fields: exp.fields } : {}),
    ...(exp.customQuery ? { custom: exp.customQuery } : {}),
  };
  let plugin: DestinationPlugin | undefined;
  let pluginLog: ReturnType<typeof runPluginLogger> | undefined;
  const replacements = new ReplacementCounter();
  let sourceFailure: SourceError | undefined;
  /** Only what fails inside plugin.write is the destination's: the host's own store writes fail as the store's. */
  let inDestinationWrite = false;
  try {
    if (exp.layout === 'POSTHOG') {
      // PostHog's columns depend on the destination's kind; a missing destination is reported further down.
      const layoutDestination = await ds.getRepository<DestinationEntity>('DestinationEntity').findOneBy({ id: exp.destinationId });
      if (layoutDestination) {
        try {
          query.fields = layoutFields('POSTHOG', exp.model, layoutDestination.type, exp.fields);
        } catch (err) {
          throw new DestinationError('config', (err as Error).message);
        }
      }
    }
    // Field selections and custom queries change the columns; a custom query is checked again on every attempt.
    const exportSchema = await source.exportSchema(query).catch((err) => {
      throw err instanceof CustomQueryError ? new DestinationError('config', `The export's custom query is refused: ${err.message}`) : asSourceError(err);
    });
    if (query.custom) query.schema = exportSchema;
    const total = await source.count(query, controller.signal).catch((err) => {
      throw asSourceError(err);
    });
    run.recordsTotalCount = total;
    await ds.query(`UPDATE runs SET records_total_count = $3 WHERE id = $1 AND attempt = $2`, [run.id, run.attempt, total]);
    if (total === 0) {
      return { status: 'Completed', message: 'Interval is empty: completed without contacting the destination.' };
    }
    const dest = await ds.getRepository<DestinationEntity>('DestinationEntity').findOneBy({ id: exp.destinationId });
    if (!dest || dest.deletedAt) throw new DestinationError('config', 'The export\'s destination was deleted: point the export at another destination.');
    plugin = deps.registry.get(dest.type);
    if (!plugin) throw new DestinationError('config', `Destination plugin "${dest.type}" is not installed on this worker.`);
    const config = resolveDestinationConfig(plugin, dest, deps.secrets);
    await assertLocationsAllowed(config, options.destinationNetworks);
    await log.info(`Exporting ${total} rows to ${plugin.displayName} destination "${dest.name}".`, { rows: total, destinationType: dest.type });

    let rowsAllRead = false;
    async function* counted(): AsyncIterable<RecordBatch> {
      const batches = source.stream(query, { signal: controller.signal, batchSize: options.batchSize, replacements })[Symbol.asyncIterator]();
      let exhausted = false;
      try {
        for (;;) {
          let next: IteratorResult<RecordBatch>;
          try {
            next = await batches.next();
          } catch (err) {
            exhausted = true;
            // The plugin sees this error from the iterator it consumes and may wrap it as its own failure.
            throw (sourceFailure = asSourceError(err));
          }
          if (next.done) return void (exhausted = rowsAllRead = true);
          rowsRead += next.value.rows.length;
          if (next.value.rows.length) yield next.value;
        }
      } finally {
        if (!exhausted) await batches.return?.(undefined);
      }
    }
    inDestinationWrite = true;
    const wire = bytePathFormat(plugin, config, exp.model, exportSchema, query, source);
    if (wire) await log.info(`Data path: bytes (ClickHouse writes ${wire.format}, ${wire.compression}; the worker streams them).`);
    const runContext: RunContext = {
      runId: run.id,
      exportId: exp.id,
      teamId: run.teamId,
      model: exp.model,
      schema: exportSchema,
      schemaMode: exp.schemaMode ?? 'EVOLVE',
      layout: exp.layout ?? 'OUTPORT',
      interval: { start: run.intervalStart, end: run.intervalEnd },
      attempt: run.attempt,
      isBackfill: run.backfillId !== null,
      expectedRows: total,
      signal: controller.signal,
      logger: (pluginLog = runPluginLogger(ds, pluginLogger(deps.log.child({ runId: run.id, plugin: plugin.id })), run)),
      localFilesDirectory: options.localFilesRoot ? teamLocalFilesDirectory({ OUTPORT_LOCAL_FILES_ROOT: options.localFilesRoot }, run.teamId) : undefined,
      // Plugins report increments (rows and bytes landed since their last call), as the SDK documents.
      progress: (u) => {
        if (u.bytes) bytes += u.bytes;
        if (u.rows) rowsLanded += u.rows;
        if (u.rows && wire) rowsRead += u.rows;
      },
    };
    const encoded = wire
      ? watchSourceFailures(source.encodedRun!(query, wire, { signal: controller.signal, expectedRows: total }), (err) => (sourceFailure ??= err))
      : undefined;
    const result = encoded ? await plugin.writeEncoded!(config, runContext, encoded) : await plugin.write(config, runContext, counted());
    if (encoded) {
      // Rows read on the byte path: counted in the streams the plugin read, or, when the plugin sliced the run,
      // ClickHouse's exact count of the whole query (a slice left out then fails reconciliation).
      rowsRead = (await encoded.exactRows()) ?? encoded.rowsStreamed();
      replacements.addAll(await encoded.replacements());
    }
    inDestinationWrite = false;
    if (stop) throw stop;
    // The row path's plugin returned without reading its rows to the end: what it confirmed is not the interval.
    if (!encoded && !rowsAllRead && rowsRead < total) {
      return {
        status: 'Failed',
        kind: 'reconciliation',
        errorSource: 'destination',
        error: `Reconciliation failed: the destination plugin returned after reading ${rowsRead} of the interval's ${total} rows; a plugin must read every batch. The run was not marked complete.`,
      };
    }
    // The count and the read are two answers of ClickHouse about one closed interval: they differ only when the data
    // changed between them or an answer came back short. Completing then would reconcile against the wrong number
    // (a short answer read as 0 rows completes a run that exported nothing); a retry reads a settled source. A
    // custom query may legitimately answer differently twice (rand(), now()): only the models are held to it.
    if (!query.custom && rowsRead !== total) {
      throw (sourceFailure = new SourceError(
        `ClickHouse counted ${total} rows for this interval, but the run read ${rowsRead}: the source's data changed while the run read it, or one of its answers was cut short`,
      ));
    }
    await pluginLog.flush();
    replacements.addAll(result.replacements);
    run.replacements = describedReplacements(replacements.list());
    // The destination holds the rows now: a store outage here must delay the bookkeeping, not fail the attempt.
    const durably = <T>(what: string, fn: () => Promise<T>) =>
      retryThroughStoreOutage(fn, { log: deps.log.child({ runId: run.id }), what: `${what} of run ${run.id} (attempt ${run.attempt})`, signal: shutdown });
    await durably('storing replacements', () =>
      ds.query(`UPDATE runs SET replacements = $3 WHERE id = $1 AND attempt = $2`, [run.id, run.attempt, JSON.stringify(run.replacements)]),
    );
    await durably('logging replacements', () => logReplacements(log, run.replacements));
    bytes = result.bytesWritten;
    run.recordsRead = rowsRead;
    run.recordsCompleted = result.rowsLanded;
    run.bytesExported = bytes;
    if (result.rowsLanded !== rowsRead) {
      return {
        status: 'Failed',
        kind: 'reconciliation',
        errorSource: 'destination',
        error: `Reconciliation failed: read ${rowsRead} rows from the source but the destination confirmed ${result.rowsLanded}. The run was not marked complete; retry it after checking the destination.`,
      };
    }
    return { status: 'Completed', message: `Completed: ${rowsRead} rows read, ${result.rowsLanded} landed, ${bytes} bytes.${result.details ? ' ' + JSON.stringify(result.details) : ''}` };
  } catch (err) {
    run.recordsRead = rowsRead;
    run.recordsCompleted = 0; // a failed attempt leaves the destination as before the run, whatever progress said
    run.bytesExported = bytes;
    if (stop?.reason === 'cancelled') return { status: 'Cancelled', error: 'Cancelled by user' };
    if (stop?.reason === 'deleted') return { status: 'Cancelled', error: 'Export deleted' };
    if (stop?.reason === 'superseded') {
      deps.log.warn({ runId: run.id, attempt: run.attempt }, 'another attempt took this run over; this attempt stopped');
      return { status: 'Cancelled', error: 'Another attempt took this run over' }; // fenced out by attempt: never written
    }
    if (stop?.reason === 'timeout') return { status: 'TimedOut', error: `Run exceeded its time limit of ${Math.round(timeoutMs / 1000)} s`, kind: 'timeout' };
    if (shutdown?.aborted) {
      return { status: 'FailedRetryable', kind: 'retryable', error: 'Worker shut down during the run; it will be retried.', retryInMs: 0 };
    }
    if (!inDestinationWrite && isStoreUnavailable(err)) {
      const message = `Outport's metadata store was unreachable (${err instanceof Error ? err.message : String(err)}); the attempt stopped and will be retried`;
      return { status: 'FailedRetryable', kind: 'retryable', errorSource: 'store', error: message, retryInMs: retryDelayMs(run.attempt, options.backoff) };
    }
    const fromSource = sourceFailure ?? findSourceError(err);
    if (fromSource) {
      if (run.attempt < options.maxAttempts) {
        return { status: 'FailedRetryable', kind: 'retryable', errorSource: 'source', error: fromSource.message, retryInMs: retryDelayMs(run.attempt, options.backoff) };
      }
      return { status: 'Failed', kind: 'retryable', errorSource: 'source', error: `${fromSource.message} (gave up after ${run.attempt} attempts)` };
    }
    const classified = isDestinationError(err) ? err : (plugin?.classifyError ?? classifyCommonError)(err);
    const message = classified.code ? `[${classified.code}] ${classified.message}` : classified.message;
    const errorSource: ErrorSource = classified.kind === 'config' ? 'config' : 'destination';
    if (classified.kind === 'retryable' && run.attempt < options.maxAttempts) {
      return { status: 'FailedRetryable', kind: 'retryable', errorSource, error: message, retryInMs: retryDelayMs(run.attempt, options.backoff, classified.retryAfterMs) };
    }
    const suffix = classified.kind === 'retryable' ? ` (gave up after ${run.attempt} attempts)` : '';
    return { status: 'Failed', kind: classified.kind, errorSource, error: message + suffix };
  } finally {
    clearTimeout(timer);
    clearInterval(heartbeat);
    shutdown?.removeEventListener('abort', onShutdown);
    await pluginLog?.flush();
  }
}

/**
 * The wire format of the byte path for this run (see `WireFormat` in the SDK), or undefined for the row path: the
 * plugin must offer `writeEncoded` and want bytes for this config, and the source must serve the query (whole
 * models; custom queries and field selections are rows). OUTPORT_DATA_PATH=rows forces the row path (comparisons).
 */
function bytePathFormat(plugin: DestinationPlugin, config: unknown, model: Model, schema: ModelSchema, query: SourceQuery, source: RunSource): WireFormat | undefined {
  if (process.env.OUTPORT_DATA_PATH === 'rows') return undefined;
  if (!plugin.writeEncoded || !plugin.wireFormat || !source.encodedRun || !source.canEncode?.(query)) return undefined;
  return plugin.wireFormat(config, { model, schema });
}


async function isFirstRunOfBackfill(ds: DataSource, run: RunEntity): Promise<boolean> {
  const [first] = await ds.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start LIMIT 1`, [run.backfillId]);
  return first?.id === run.id;
}

function durableRunLog(log: RunLog, durably: <T>(what: string, fn: () => Promise<T>) => Promise<T>): RunLog {
  return {
    debug: (m, f) => durably('logging', () => log.debug(m, f)),
    info: (m, f) => durably('logging', () => log.info(m, f)),
    warn: (m, f) => durably('logging', () => log.warn(m, f)),
    error: (m, f) => durably('logging', () => log.error(m, f)),
  };
}

async function finish(
  deps: ExecutorDeps,
  run: RunEntity,
  attempt: number,
  outcome: Outcome,
  rawLog: RunLog,
  exp?: BatchExportEntity,
  shutdown?: AbortSignal,
): Promise<void> {
  const { ds } = deps;
  const final = outcome.status !== 'FailedRetryable';
  const error = outcome.status === 'Completed' ? null : outcome.error;
  const kind = outcome.status === 'Completed' ? null : (outcome.kind ?? null);
  const nextAt = outcome.status === 'FailedRetryable' ? new Date(Date.now() + outcome.retryInMs) : null;
  // The destination may already hold this attempt's rows: its outcome is kept through a store outage of any length
  // (fenced by attempt), and the state and the retry's job commit together, so a retrying run never lacks its job.
  const durably = <T>(what: string, fn: () => Promise<T>) =>
    retryThroughStoreOutage(fn, { log: deps.log.child({ runId: run.id }), what: `${what} of run ${run.id} (attempt ${attempt})`, signal: shutdown });
  const recorded = await durably(`recording the outcome (${outcome.status})`, () =>
    ds.transaction(async (m) => {
      const res = await m.query(
        `UPDATE runs SET status = $3, latest_error = $4, error_kind = $5, finished_at = CASE WHEN $6 THEN now() ELSE NULL END,
           next_attempt_at = $7, records_read = $8, records_completed = $9, bytes_exported = $10, heartbeat_at = now()
         WHERE id = $1 AND attempt = $2 RETURNING id`,
        [run.id, attempt, outcome.status, error, kind, final, nextAt, run.recordsRead, run.recordsCompleted, run.bytesExported],
      );
      if (res[1] === 0) return false; // another attempt took over
      if (outcome.status === 'FailedRetryable') await enqueueRun(m, run, nextAt!);
      return true;
    }),
  );
  if (!recorded) return;
  await recordAttemptFinished(ds, deps.log, run, attempt, { status: outcome.status, error: error ?? undefined, kind: kind ?? undefined });
  Object.assign(run, { status: outcome.status as RunStatus, latestError: error, errorKind: kind, finishedAt: final ? new Date() : null, nextAttemptAt: nextAt });
  const errorSource = outcome.status === 'Completed' ? undefined : outcome.errorSource;
  if (deps.metrics) {
    deps.metrics.recordAttempt({
      status: outcome.status,
      destinationType: await deps.metrics.destinationType(exp?.destinationId),
      final,
      startedAt: run.startedAt,
      intervalEnd: run.intervalEnd,
      rows: run.recordsCompleted,
      bytes: run.bytesExported,
      errorSource,
    });
  }
  const log = durableRunLog(rawLog, durably);
  const fields = { status: outcome.status, rows: run.recordsCompleted, bytes: run.bytesExported, durationMs: run.startedAt ? Date.now() - run.startedAt.getTime() : undefined };
  if (outcome.status === 'FailedRetryable') {
    await log.warn(`Attempt ${attempt} failed with a retryable error: ${outcome.error.replace(/\.$/, '')}. Retrying in ${Math.round(outcome.retryInMs / 1000)} s.`, {
      ...fields,
      errorSource,
      retryInMs: outcome.retryInMs,
    });
  } else if (outcome.status === 'Completed') {
    await log.info(outcome.message, { ...fields, rowsRead: run.recordsRead });
  } else if (outcome.status === 'Cancelled') {
    await log.warn(`${outcome.error}: the run stopped and the destination was left as before the run.`, fields);
  } else {
    await log.error(`Run ${outcome.status === 'TimedOut' ? 'timed out' : 'failed'} (${outcome.kind ?? 'error'}): ${outcome.error}`, { ...fields, errorKind: outcome.kind, errorSource });
  }
  await durably('publishing the outcome', () => publishRun(ds, run));
  if (run.backfillId && final) await durably('updating the backfill', () => finishBackfillIfDone(ds, run.backfillId!));
  if ((outcome.status === 'Failed' || outcome.status === 'TimedOut') && exp) {
    const notice = {
      teamId: run.teamId,
      batchExportId: run.batchExportId,
      batchExportName: exp.name,
      runId: run.id,
      intervalStart: run.intervalStart.toISOString(),
      intervalEnd: run.intervalEnd.toISOString(),
      error,
    };
    await alertOnFailure(ds, deps.log, run, notice, deps.options.autoPause, deps.options.destinationNetworks);
  } else if (outcome.status === 'Completed' && exp) {
    await alertOnCompletion(ds, deps.log, run, exp.name);
  }
}
