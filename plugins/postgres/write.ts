/** One run: stage by COPY, merge in one transaction, reconcile, clean up (also on failure and abort). */
import type { Client } from 'pg';
import { DestinationError, type RecordBatch, type RunContext, type WriteResult } from '../../src/sdk';
import { qualified, retryAfterLateCancel } from '../../src/sdk/pgwire';
import { tableFor, type PostgresConfig } from './config';
import { cancelRunning, connect } from './connection';
import { copyBatches } from './copy';
import { ensureTable } from './ddl';
import { toDestinationError } from './errors';
import { displayName } from './identifiers';
import { landedSql, mergeSql } from './merge';
import { Sanitizer } from './sanitize';
import { dropStage, lockRun, recreateStage, stageTableName, unlockRun } from './stage';

type Phase = 'setup' | 'copy' | 'merge' | 'done';

export async function writeRun(config: PostgresConfig, ctx: RunContext, batches: AsyncIterable<RecordBatch>): Promise<WriteResult> {
  const model = ctx.schema;
  const table = tableFor(config, ctx.model);
  const finalName = qualified(config.schema, table);
  const stage = stageTableName(ctx.runId);
  const stageName = qualified(config.schema, stage);
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
  let inTransaction = false;
  try {
    await lockRun(client, ctx.runId);
    locked = true;
    const created = await ensureTable(client, config.schema, table, model);
    if (created === 'created') ctx.logger.info(`Created table ${displayName(config.schema, table)}`);
    if (await recreateStage(client, config.schema, stage, model)) {
      ctx.logger.info(`Dropped the staging table ${stage} left by an earlier attempt of this run`);
    }
    ctx.signal.throwIfAborted();

    phase = 'copy';
    const copied = await copyBatches({
      client,
      table: stageName,
      columns: model.columns,
      batches,
      sanitizer,
      signal: ctx.signal,
      onBatch: (rows, bytes) => ctx.progress({ rows, bytes }),
    });
    ctx.signal.throwIfAborted();

    phase = 'merge';
    // A fresh stage has no statistics: the planner would guess 200 distinct keys and pick plans that crawl on
    // millions of rows. ANALYZE samples a bounded number of rows, so it costs about the same at any size.
    await client.query(`ANALYZE ${stageName}`);
    const copiedAt = Date.now();
    await client.query('BEGIN');
    inTransaction = true;
    const merged = await client.query(mergeSql(finalName, stageName, model));
    const landed = await client.query<{ n: string }>(landedSql(finalName, stageName, model));
    await dropStage(client, config.schema, stage);
    ctx.signal.throwIfAborted();
    await client.query('COMMIT');
    inTransaction = false;
    phase = 'done';

    const rowsLanded = Number(landed.rows[0].n);
    ctx.logger.debug('Postgres run timings', { copyMs: copiedAt - startedAt, mergeMs: Date.now() - copiedAt });
    return {
      rowsLanded,
      bytesWritten: copied.bytes,
      details: {
        table: displayName(config.schema, table),
        rowsStaged: copied.rows,
        rowsInsertedOrUpdated: merged.rowCount ?? 0,
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
    await cleanUp(client, { config, stage, runId: ctx.runId, inTransaction, locked, logger: ctx.logger });
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
