/**
 * One run: connect, lock the run, check the table, load it (load.ts), clean up (also on failure and abort). The row
 * path encodes batches (copy.ts); the byte path pipes the COPY text ClickHouse wrote (encoded.ts), in one stream or,
 * for large runs, in parallel streams of disjoint key slices, each on its own session into the one stage.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { DestinationError, type EncodedPart, type EncodedRun, type KeySlice, type RecordBatch, type RunContext, type WireFormat, type WriteResult } from '../../src/sdk';
import { retryAfterLateCancel } from '../../src/sdk/pgwire';
import { tableFor, type PostgresConfig } from './config';
import { cancelRunning, connect } from './connection';
import { rowEncoderInput } from './copy';
import { ensureTable } from './ddl';
import { encodedInputs, evenSlices } from './encoded';
import { toDestinationError } from './errors';
import { displayName } from './identifiers';
import { loadRun, type CopyInput } from './load';
import { Sanitizer } from './sanitize';
import { dropStage, lockRun, stageTableName, unlockRun } from './stage';

type Phase = 'setup' | 'copy' | 'merge' | 'done';

/** The byte path's format: every config and model lands COPY text. */
export const PGCOPY: WireFormat = { format: 'pgcopy', compression: 'none' };

/**
 * Runs of at least this many rows (the host's count) would be loaded by PARALLEL_STREAMS COPY streams of disjoint
 * key slices: none today. Slicing needs `run.stats()`, whose aggregate, when this was measured, also counted pgcopy's
 * replacements and cost about as much as the COPY it would shorten; on 2 cores at 300,000 events two streams
 * shortened the COPY by 8-10% and lengthened the run by 40% (README "Performance"). That aggregate counts keys only
 * now (0.25 CPU-s of ClickHouse at 300,000 events): worth measuring again. Lower it where more cores make the COPY
 * the bottleneck.
 */
export const PARALLEL_STREAMS_MIN_ROWS = Number.POSITIVE_INFINITY;
export const PARALLEL_STREAMS = 2;

/** What one data path hands the shared load: COPY inputs, and the rows and bytes they sent once they finished. */
interface RunInputs {
  inputs: CopyInput[];
  sent(): { rows: number; bytes: number };
  /** Sessions for the second and later inputs (parallel streams). */
  parallel?: boolean;
  /** The run's keys, to load keys first (load.ts). */
  keys?: CopyInput;
  /** Why the run takes the stage load although its path could load keys first (for the run's log). */
  stageBecause?: string;
  /** Frees what the inputs prepared and did not use. */
  release?(): Promise<void>;
}

/** What the table check found that decides how the run loads. */
interface TableFacts {
  /** Model columns whose existing column has another type than Outport's (filled by an assignment cast). */
  otherTypes: string[];
}

export async function writeRun(config: PostgresConfig, ctx: RunContext, batches: AsyncIterable<RecordBatch>): Promise<WriteResult> {
  return landRun(config, ctx, (sanitizer) => {
    const rows = rowEncoderInput({
      columns: ctx.schema.columns,
      batches,
      sanitizer,
      signal: ctx.signal,
      onBatch: (rows, bytes) => ctx.progress({ rows, bytes }),
    });
    return Promise.resolve({ inputs: [rows.input], sent: () => rows.encoded });
  });
}

/** `streams`: COPY streams of disjoint key slices (tests and the bench); default: by the run's size, see above. */
export async function writeEncodedRun(config: PostgresConfig, ctx: RunContext, run: EncodedRun, options: { streams?: number } = {}): Promise<WriteResult> {
  if (run.format.format !== 'pgcopy') throw new Error(`the Postgres destination lands pgcopy, not ${run.format.format}`);
  return landRun(config, ctx, async (sanitizer, table) => {
    const streams = options.streams ?? ((ctx.expectedRows ?? 0) >= PARALLEL_STREAMS_MIN_ROWS ? PARALLEL_STREAMS : 1);
    const slices = await evenSlices(run, streams);
    const stageBecause = keysFirstRefused(ctx, run, slices.length, table);
    const ahead = ctx.schema.mutable || stageBecause ? undefined : rowsAhead(run);
    const { inputs, totals } = encodedInputs({
      run: ahead?.run ?? run,
      slices,
      columns: ctx.schema.columns,
      sanitizer,
      signal: ctx.signal,
      onChunk: (rows, bytes) => ctx.progress({ rows, bytes }),
    });
    if (slices.length > 1) ctx.logger.info(`Loading in ${slices.length} parallel COPY streams of disjoint key slices`);
    const keys = ahead ? keysInput(run, ctx.signal, ahead.start) : undefined;
    return { inputs, sent: () => totals, parallel: slices.length > 1, keys, stageBecause, release: ahead?.discard };
  });
}

/**
 * Why an events run cannot load keys first. Keys first COPYs ClickHouse's text straight into the table: only where
 * the stage load's INSERT would not convert it (a text column would keep ClickHouse's JSON text where the stage's
 * jsonb normalises it) and in one stream (the transaction is one session's). Mutable models need the version merge.
 */
function keysFirstRefused(ctx: RunContext, run: EncodedRun, streams: number, table: TableFacts): string | undefined {
  if (ctx.schema.mutable) return undefined;
  if (!run.openKeys) return 'the host streams no keys';
  if (streams > 1) return 'it loads in parallel streams';
  if (table.otherTypes.length) return `columns ${table.otherTypes.join(', ')} of the table have other types than Outport creates`;
  return undefined;
}

/** The run's keys (events: team_id, uuid) as COPY text: ClickHouse's TabSeparated of an integer and a uuid is. */
function keysInput(run: EncodedRun, signal: AbortSignal, keysRunning: () => void): CopyInput {
  return async (copy) => {
    const part = await run.openKeys!();
    keysRunning();
    await pipeline(Readable.from(part.chunks, { objectMode: false }), copy, { signal });
    await part.finished();
  };
}

/**
 * The whole run's rows query started as soon as the keys query runs, so that ClickHouse's time to its first byte
 * (deduplicating the interval, as long as the keys query's) passes while the keys load and their rows are deleted;
 * its bytes wait in the socket (back-pressure) until the rows' COPY reads them. Started after the keys query, so an
 * endpoint that runs one query at a time runs the keys first. `discard` cancels it if nothing took it.
 */
function rowsAhead(run: EncodedRun) {
  let started: Promise<EncodedPart> | undefined;
  let taken = false;
  return {
    run: { ...run, open: (slice?: KeySlice) => (!slice && started && !taken ? ((taken = true), started) : run.open(slice)) } as EncodedRun,
    start: () => {
      started ??= run.open();
      started.catch(() => undefined);
    },
    discard: async () => {
      if (!started || taken) return;
      taken = true;
      const part = await started.catch(() => undefined);
      if (!part) return;
      // A generator never started ignores return(): start it, then stop it (which cancels the query).
      const chunks = part.chunks[Symbol.asyncIterator]();
      await chunks.next().catch(() => undefined);
      await chunks.return?.(undefined).catch(() => undefined);
    },
  };
}

async function landRun(config: PostgresConfig, ctx: RunContext, prepare: (sanitizer: Sanitizer, table: TableFacts) => Promise<RunInputs>): Promise<WriteResult> {
  const model = ctx.schema;
  const table = tableFor(config, ctx.model);
  const stage = stageTableName(ctx.runId);
  const sanitizer = new Sanitizer();

  const startedAt = Date.now();
  const client = await connect(config, ctx.signal);
  let phase: Phase = 'setup';
  let cancelling: Promise<void> | undefined;
  // COPY is stopped by its pipeline's signal; a running SQL statement needs a cancel request.
  const onAbort = () => {
    if (phase === 'merge' || phase === 'setup') cancelling = cancelRunning(config, client);
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let locked = false;
  let release: (() => Promise<void>) | undefined;
  try {
    await lockRun(client, ctx.runId);
    locked = true;
    const ensured = await ensureTable(client, config.schema, table, model, ctx.schemaMode);
    if (ensured.evolved) ctx.logger.info(ensured.evolved);
    if (ensured.state === 'created') ctx.logger.info(`Created table ${displayName(config.schema, table)}`);
    if (ensured.advice) ctx.logger.warn(ensured.advice);
    ctx.signal.throwIfAborted();

    const run = await prepare(sanitizer, ensured);
    release = run.release;
    const loaded = await loadRun(client, {
      schema: config.schema,
      table,
      stage,
      model,
      inputs: run.inputs,
      keys: run.keys,
      openSession: run.parallel ? () => connect(config, ctx.signal) : undefined,
      signal: ctx.signal,
      onPhase: (p) => {
        phase = p === 'copy' ? 'copy' : 'merge';
      },
    });
    phase = 'done';
    if (loaded.strategy === 'keys-first') ctx.logger.info('Loaded keys first: deleted the stored rows of the run\'s keys and copied the rows straight into the table');
    else if (loaded.stageBecause ?? run.stageBecause) ctx.logger.info(`Took the stage load: ${loaded.stageBecause ?? run.stageBecause}`);
    if (loaded.droppedLeftoverStage) ctx.logger.info(`Dropped the staging table ${stage} left by an earlier attempt of this run`);
    const sent = run.sent();
    if (loaded.rowsStaged !== sent.rows) {
      throw new Error(`COPY reported ${loaded.rowsStaged} rows but ${sent.rows} were sent`);
    }

    ctx.logger.debug('Postgres run timings (seconds)', { totalSeconds: (Date.now() - startedAt) / 1000, ...loaded.timings });
    return {
      rowsLanded: loaded.rowsLanded,
      bytesWritten: sent.bytes,
      details: {
        table: displayName(config.schema, table),
        loadStrategy: loaded.strategy,
        rowsStaged: loaded.rowsStaged,
        rowsInsertedOrUpdated: loaded.rowsInsertedOrUpdated,
        ...(model.mutable ? {} : { rowsReplaced: loaded.rowsReplaced }),
      },
      replacements: sanitizer.replacements.list(),
    };
  } catch (err) {
    if (cancelling) await cancelling;
    if (ctx.signal.aborted) {
      throw new DestinationError('retryable', `Run aborted; nothing was written to ${displayName(config.schema, table)}.`, {
        cause: ctx.signal.reason,
        code: 'ABORTED',
      });
    }
    throw toDestinationError(err, `Writing to ${displayName(config.schema, table)}`);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (cancelling) await cancelling;
    await release?.();
    await cleanUp(client, { config, stage, runId: ctx.runId, inTransaction: (phase as Phase) === 'merge' || (phase as Phase) === 'copy', locked, logger: ctx.logger });
  }
}

/** Rolls back, drops the stage and releases the run lock; a broken session gets a fresh one for the drop. */
async function cleanUp(
  client: Client,
  o: { config: PostgresConfig; stage: string; runId: string; inTransaction: boolean; locked: boolean; logger: RunContext['logger'] },
): Promise<void> {
  if (!o.locked) {
    // The stage belongs to whoever holds the run lock (or to nobody yet): not ours to drop.
    await client.end().catch(() => undefined);
    return;
  }
  const attempt = async (c: Client) => {
    if (o.inTransaction) await c.query('ROLLBACK');
    await dropStage(c, o.config.schema, o.stage);
  };
  try {
    await retryAfterLateCancel(() => attempt(client));
    await unlockRun(client, o.runId);
    await client.end();
  } catch {
    await client.end().catch(() => undefined);
    try {
      const fresh = await connect(o.config, new AbortController().signal);
      try {
        await dropStage(fresh, o.config.schema, o.stage);
      } finally {
        await fresh.end().catch(() => undefined);
      }
    } catch (err) {
      // The next attempt of the run drops it; say so rather than fail the run for it.
      o.logger.warn(`Could not drop the staging table ${o.stage}; the next attempt of this run replaces it`, {
        error: (err as Error).message,
      });
    }
  }
}
