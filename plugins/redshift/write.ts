/**
 * One run: one transaction that creates the stage, loads it (INSERT statements or COPY from S3), merges it into
 * the final table, counts what landed and drops the stage. Any failure or abort rolls it all back, so the final
 * table is exactly as before the run, and staged S3 files are deleted either way.
 *
 * Two data paths load the stage, everything else is shared: the row path (`writeRun`: rows through the value rules
 * in Node) and the byte path (`writeRunEncoded`: ClickHouse writes the row literals or the staged JSON Lines under
 * the same rules, src/source/wire/redshift.ts, and Node only groups lines into statements or files).
 */
import type { Client } from 'pg';
import { DestinationError, type EncodedRun, type ModelSchema, type RecordBatch, type RunContext, type WriteResult } from '../../src/sdk';
import { lostCreateRace, qualified, queryMessage, retryAfterLateCancel } from '../../src/sdk/pgwire';
import { tableFor, type RedshiftConfig } from './config';
import { cancelRunning, connect } from './connection';
import { loadError, toDestinationError } from './errors';
import { InsertStatementBuilder, MAX_STATEMENT_PARAMS, ValuesStatements, type InsertStatement, type ValuesStatement } from './insert-statements';
import { createS3Client, runPrefix, S3Staging, type StagedFiles } from './s3-staging';
import {
  copySql, createStageSql, dropTableSql, LOAD_ERROR_SQL, mergeStatements, missingKeysSql, stagedKeysSql, type CopySource,
} from './sql';
import { ensureTable, stageTableName, tableColumns } from './table';
import { ValueRules } from './values';

interface Loaded {
  rows: number;
  bytes: number;
  statements?: number;
  files?: number;
}

interface RunState {
  client: Client;
  config: RedshiftConfig;
  ctx: RunContext;
  model: ModelSchema;
  stage: string;
  rules: ValueRules;
  /** Set when the COPY path already rolled back (to read stl_load_errors). */
  inTransaction: boolean;
  staging?: S3Staging;
}

export function writeRun(config: RedshiftConfig, ctx: RunContext, batches: AsyncIterable<RecordBatch>): Promise<WriteResult> {
  return landRun(config, ctx, (s) => (config.mode === 'copy' ? loadByCopy(s, batches) : loadByInsert(s, batches)));
}

/** The byte path: the same run, the stage loaded from ClickHouse's bytes (`wireFormat` chose the format). */
export function writeRunEncoded(config: RedshiftConfig, ctx: RunContext, run: EncodedRun): Promise<WriteResult> {
  return landRun(config, ctx, (s) => (config.mode === 'copy' ? loadByCopyEncoded(s, run) : loadByInsertEncoded(s, run)));
}

async function landRun(config: RedshiftConfig, ctx: RunContext, load: (s: RunState) => Promise<Loaded>): Promise<WriteResult> {
  const model = ctx.schema;
  const table = tableFor(config, ctx.model);
  const finalName = qualified(config.schema, table);
  const stage = stageTableName(ctx.runId);
  const stageName = qualified(config.schema, stage);

  const client = await connect(config, ctx.signal);
  const state: RunState = { client, config, ctx, model, stage, rules: new ValueRules(), inTransaction: false };
  let cancelling: Promise<void> | undefined;
  const onAbort = () => {
    cancelling = cancelRunning(config, client);
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const ensured = await ensureTableOnce(client, config, table, model, ctx.schemaMode);
    if (ensured === 'created') ctx.logger.info(`Created table ${finalName}`);
    else if (typeof ensured === 'object') ctx.logger.info(ensured.evolved);
    if (await tableColumns(client, config.schema, stage)) {
      ctx.logger.info(`Dropping the staging table ${stage} left by an earlier attempt of this run`);
    }
    await client.query('BEGIN');
    state.inTransaction = true;
    await client.query(dropTableSql(config.schema, stage));
    await client.query(createStageSql(config.schema, stage, model, config.properties_data_type));
    ctx.signal.throwIfAborted();

    const loaded = await load(state);
    ctx.signal.throwIfAborted();

    const staged = await count(client, stagedKeysSql(stageName, model));
    try {
      for (const sql of mergeStatements(config.schema, table, stage, model)) await client.query(sql);
    } catch (err) {
      // The merge only inserts keys absent from the table, so a key violation means another run (another export
      // into this table) inserted the same keys after this transaction looked. Redshift reports that race as
      // serializable isolation violation 1023; an enforced key (Postgres-compatible servers) as 23505. Both
      // leave the table as it was; the next attempt sees the other run's rows and merges cleanly.
      if ((err as { code?: string }).code !== '23505') throw err;
      throw new DestinationError('retryable', `Another run inserted the same keys into ${finalName} at the same time; this attempt was rolled back and runs again.`, {
        cause: err,
        code: 'CONCURRENT_MERGE',
      });
    }
    const missing = await count(client, missingKeysSql(finalName, stageName, model));
    if (missing > 0) {
      throw new DestinationError('permanent', `${missing} key(s) of the run are missing from ${finalName} after the merge; rolled back.`, {
        code: 'MERGE_INCOMPLETE',
      });
    }
    await client.query(dropTableSql(config.schema, stage));
    ctx.signal.throwIfAborted();
    await client.query('COMMIT');
    state.inTransaction = false;

    return {
      rowsLanded: staged - missing,
      bytesWritten: loaded.bytes,
      details: {
        table: finalName,
        mode: config.mode,
        rowsStaged: loaded.rows,
        ...(loaded.statements !== undefined ? { statements: loaded.statements } : {}),
        ...(loaded.files !== undefined ? { files: loaded.files } : {}),
      },
      replacements: state.rules.replacements.list(),
    };
  } catch (err) {
    if (cancelling) await cancelling;
    if (ctx.signal.aborted) {
      throw new DestinationError('retryable', `Run aborted; nothing was written to ${finalName}.`, { cause: ctx.signal.reason, code: 'ABORTED' });
    }
    throw toDestinationError(err, `Writing to ${finalName}`);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    if (cancelling) await cancelling;
    await cleanUp(state);
  }
}

async function count(client: Client, sql: string): Promise<number> {
  const { rows } = await client.query<{ n: string | number }>(sql);
  return Number(rows[0].n);
}

async function ensureTableOnce(client: Client, config: RedshiftConfig, table: string, model: ModelSchema, mode: RunContext['schemaMode']) {
  try {
    return await ensureTable(client, config.schema, table, model, config.properties_data_type, mode);
  } catch (err) {
    if (!lostCreateRace(err)) throw err; // two runs creating the same table at once: it exists now
    return 'existing' as const;
  }
}

async function loadByInsert(s: RunState, batches: AsyncIterable<RecordBatch>): Promise<Loaded> {
  const { client, ctx, model, rules } = s;
  const builder = new InsertStatementBuilder(qualified(s.config.schema, s.stage), model.columns, s.config.properties_data_type);
  const loaded: Loaded = { rows: 0, bytes: 0, statements: 0 };
  const run = async (st: InsertStatement) => {
    await client.query(st.text, st.values);
    loaded.bytes += st.bytes;
    loaded.statements!++;
    ctx.progress({ bytes: st.bytes });
  };
  for await (const batch of batches) {
    ctx.signal.throwIfAborted();
    for (const row of batch.rows) {
      const full = builder.add(model.columns.map((c) => rules.apply(c, row[c.name])));
      if (full) await run(full);
    }
    loaded.rows += batch.rows.length;
    ctx.progress({ rows: batch.rows.length });
  }
  const last = builder.flush();
  if (last) await run(last);
  return loaded;
}

/**
 * insert mode, byte path: ClickHouse's row literals grouped into `INSERT ... VALUES` statements under the row path's
 * limits (16 MB, and its rows per statement), sent as the bytes received (no JS string). One statement runs while the
 * next is gathered: at most two exist (`ValuesStatements`), so ClickHouse and the server work at the same time.
 */
async function loadByInsertEncoded(s: RunState, run: EncodedRun): Promise<Loaded> {
  const { client, ctx, model } = s;
  // As many rows per statement as the row path's statements hold at most (its parameter limit): the same shape for
  // the server, and a few MB of text held per statement rather than 16 MB (measured: no slower on the stand-in).
  const statements = new ValuesStatements(qualified(s.config.schema, s.stage), model.columns, {
    maxRows: Math.floor(MAX_STATEMENT_PARAMS / model.columns.length),
  });
  const loaded: Loaded = { rows: 0, bytes: 0, statements: 0 };
  let running: Promise<void> | undefined;
  const send = async (st: ValuesStatement) => {
    await running;
    ctx.signal.throwIfAborted();
    running = queryMessage(client, st.message)
      .then(() => {
        loaded.rows += st.rows;
        loaded.bytes += st.bytes;
        loaded.statements!++;
        ctx.progress({ rows: st.rows, bytes: st.bytes });
      })
      .finally(() => st.release());
    // Failures surface where it is awaited; until then the rejection must not count as unhandled.
    running.catch(() => undefined);
  };
  const part = await run.open();
  for await (const st of statements.statements(part.chunks)) await send(st);
  await running;
  const { rows } = await part.finished();
  if (rows !== loaded.rows) throw new Error(`inserted ${loaded.rows} rows but the stream from ClickHouse counted ${rows}`);
  return loaded;
}

function copySource(config: RedshiftConfig, prefix: string): CopySource {
  return {
    bucket: config.s3_bucket!,
    prefix,
    region: config.s3_region || undefined,
    auth: config.iam_role
      ? { iamRole: config.iam_role }
      : { accessKeyId: config.aws_access_key_id!, secretAccessKey: config.aws_secret_access_key! },
  };
}

function loadByCopy(s: RunState, batches: AsyncIterable<RecordBatch>): Promise<Loaded> {
  const onRows = (rows: number) => s.ctx.progress({ rows });
  return stageAndCopy(s, (staging) => staging.upload(s.model, batches, s.rules, s.config.properties_data_type, onRows));
}

/** copy mode, byte path: ClickHouse's JSON Lines (the row path's lines) gzipped and cut into the same files. */
async function loadByCopyEncoded(s: RunState, run: EncodedRun): Promise<Loaded> {
  const part = await run.open();
  return stageAndCopy(s, async (staging) => {
    const files = await staging.uploadLines(part.chunks, (rows) => s.ctx.progress({ rows }));
    const { rows } = await part.finished();
    if (rows !== files.rows) throw new Error(`staged ${files.rows} lines but the stream from ClickHouse counted ${rows}`);
    return files;
  });
}

/** Empties the run's S3 prefix, stages the files `upload` writes, and COPYs them into the stage. */
async function stageAndCopy(s: RunState, upload: (staging: S3Staging) => Promise<StagedFiles>): Promise<Loaded> {
  const { client, config, ctx, model } = s;
  const staging = new S3Staging(createS3Client(config), config.s3_bucket!, runPrefix(config.s3_prefix, s.stage), ctx.signal);
  s.staging = staging;
  const leftovers = await staging.clear();
  if (leftovers > 0) ctx.logger.info(`Deleted ${leftovers} staged file(s) left by an earlier attempt of this run`);
  const files = await upload(staging);
  ctx.progress({ bytes: files.bytes });
  if (files.rows === 0) return { rows: 0, bytes: 0, files: 0 };
  ctx.signal.throwIfAborted();
  try {
    await client.query(copySql(qualified(config.schema, s.stage), model, copySource(config, staging.prefix)));
  } catch (err) {
    if (!/stl_load_errors/i.test((err as Error).message ?? '')) throw err;
    // The failed COPY aborted the transaction; stl_load_errors can only be read after rolling it back.
    await client.query('ROLLBACK');
    s.inTransaction = false;
    const first = await client.query(LOAD_ERROR_SQL).then((r) => r.rows[0], () => undefined);
    throw loadError(err, first);
  }
  return { rows: files.rows, bytes: files.bytes, files: files.keys.length };
}

/** Rolls back, drops the stage and deletes staged files; a broken session gets a fresh one for the drop. */
async function cleanUp(s: RunState): Promise<void> {
  const { client, config, stage, ctx } = s;
  const tidy = async (c: Client) => {
    if (s.inTransaction) await c.query('ROLLBACK');
    s.inTransaction = false;
    await c.query(dropTableSql(config.schema, stage));
  };
  try {
    await retryAfterLateCancel(() => tidy(client));
    await client.end();
  } catch {
    await client.end().catch(() => undefined);
    try {
      const fresh = await connect(config, new AbortController().signal);
      try {
        await fresh.query(dropTableSql(config.schema, stage));
      } finally {
        await fresh.end().catch(() => undefined);
      }
    } catch (err) {
      ctx.logger.warn(`Could not drop the staging table ${stage}; the next attempt of this run replaces it`, { error: (err as Error).message });
    }
  }
  if (s.staging) {
    try {
      await s.staging.clear(new AbortController().signal);
    } catch (err) {
      ctx.logger.warn(`Could not delete the staged files under s3://${s.staging.bucket}/${s.staging.prefix}; the next attempt of this run deletes them`, {
        error: (err as Error).message,
      });
    }
    s.staging.destroy();
  }
}
