/**
 * BigQuery destination.
 *
 * A run loads its rows (newline-delimited JSON load jobs, one per `load_job_size_mb`, 64 MiB by default) into a staging table named after
 * the run, then one MERGE lands them in the final table: events insert the keys that are absent, persons and
 * sessions replace a stored row only when a version column grew. The stage is dropped whatever happens, and
 * expires by itself after a day in case even that fails. Retried runs therefore replace, never add.
 *
 * Two data paths fill the stage. The byte path (`writeEncoded`, whole models): ClickHouse writes the very NDJSON
 * the row path's `NdjsonEncoder` writes (wire format `bigquery-ndjson`, src/source/wire/bigquery.ts) and the worker
 * streams it into the load jobs, starting a new job at the first line break after `load_job_size_mb`; the next job
 * uploads while the previous one loads. The row path (`write`: custom queries, field selections,
 * OUTPORT_DATA_PATH=rows) encodes each row here. Either way the values follow the same rules; on the byte path the
 * host counts and reports the replacements (invalid UTF-8), and a json value that is not a document under
 * use_json_type fails the run before the MERGE, as it fails the row path.
 */
import { createHash } from 'node:crypto';
import { MODELS, connectionStep, defineDestination, describeAppliedPlan, isEmptyPlan, schemaChangeError } from '../../src/sdk';
import type { EncodedRun, ModelSchema, RecordBatch, Replacement, RunContext, WireFormat, WriteResult } from '../../src/sdk';
import { DestinationError } from '../../src/sdk';
import { BigQueryClient } from './client';
import type { LoadJob } from './client';
import { bigQueryConfigSchema } from './config';
import type { BigQueryConfig } from './config';
import { classifyBigQueryError } from './errors';
import { NdjsonEncoder, bigQueryFields, bigQueryType, evolvedFields, planTableChange, sortableTimestamp } from './schema';
import type { BigQueryField } from './schema';
import { landedCountStatement, mergeStatement, timestampRangeStatement } from './sql';
import type { TableRef } from './sql';

/** Bytes per load job by default (config `load_job_size_mb`). BigQuery takes far more per job; this bounds the memory a row-path run holds. */
export const LOAD_CHUNK_BYTES = 64 * 1024 * 1024;
export const loadChunkBytes = (config: BigQueryConfig) => Math.max(1, Math.round(config.load_job_size_mb * 1024 * 1024));
const STAGE_TTL_MS = 24 * 60 * 60 * 1000;

/** Deterministic per run, so a retry finds (and replaces) what an earlier attempt left behind. */
export function stageTableId(tableId: string, runId: string): string {
  const readable = runId.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 64);
  const digest = createHash('sha256').update(runId).digest('hex').slice(0, 8);
  return `outport_stage_${tableId}_${readable}_${digest}`.slice(0, 1024);
}

/**
 * Events tables are partitioned by day on `timestamp`, and a run's MERGE reads only the partitions of its stage's
 * timestamps. That pruning is sound only where a key's timestamp never changes: the events model's own key and
 * timestamp (a custom query's or a renamed column could change between runs, and pruning would then miss the
 * stored copy and insert a second one).
 */
export function prunesByTimestamp(schema: ModelSchema): boolean {
  return (
    schema.model === 'events' && !schema.mutable && schema.key.join() === 'team_id,uuid' &&
    schema.columns.some((c) => c.name === 'timestamp' && c.type === 'timestamp' && !c.nullable)
  );
}

/** Partition column of a new table: a `timestamp` TIMESTAMP column of an append-only export, when it has one. */
function partitionField(schema: ModelSchema): string | undefined {
  return !schema.mutable && schema.columns.some((c) => c.name === 'timestamp' && c.type === 'timestamp') ? 'timestamp' : undefined;
}

async function ensureFinalTable(client: BigQueryClient, tableId: string, schema: ModelSchema, fields: BigQueryField[], ctx: RunContext) {
  const existing = await client.tableFields(tableId);
  if (!existing) {
    const created = await client.createTable(tableId, fields, { partitionField: partitionField(schema), clusterBy: [...schema.key].slice(0, 4) });
    if (created === 'created') return;
  }
  const current = existing ?? (await client.tableFields(tableId)) ?? [];
  const useJsonType = client.config.use_json_type;
  const plan = planTableChange(current, schema, useJsonType);
  const table = `${client.config.project_id}:${client.config.dataset_id}.${tableId}`;
  const refused = schemaChangeError(plan, { mode: ctx.schemaMode, table, typeName: (c) => bigQueryType(c, useJsonType) }, schema);
  if (refused) throw refused;
  if (isEmptyPlan(plan)) return;
  // BigQuery's own rules guard the patch: it never drops a field or changes a type.
  await client.updateFields(tableId, evolvedFields(current, plan, useJsonType));
  const evolved = describeAppliedPlan(plan, table);
  if (evolved) ctx.logger.info(evolved);
}

/** What filling a stage gave: the rows and bytes loaded, the MERGE's timestamp range, the values changed. */
interface LoadedStage {
  rows: number;
  bytes: number;
  range?: { min: string; max: string };
  replacements: Replacement[];
}

/** A sortable ISO timestamp as a GoogleSQL TIMESTAMP literal's text. */
const timestampLiteral = (iso: string) => iso.replace('T', ' ').replace('Z', '+00:00');

async function loadStage(
  client: BigQueryClient,
  stageId: string,
  ctx: RunContext,
  config: BigQueryConfig,
  batches: AsyncIterable<RecordBatch>,
): Promise<LoadedStage> {
  const encoder = new NdjsonEncoder(ctx.schema, config.use_json_type);
  const table = client.dataset.table(stageId);
  let chunk: Buffer[] = [];
  let chunkBytes = 0;
  let chunkRows = 0;
  let rows = 0;
  let bytes = 0;
  let minTs: string | undefined;
  let maxTs: string | undefined;
  const prunes = prunesByTimestamp(ctx.schema);
  const flush = async () => {
    if (!chunkRows) return;
    await client.load(table, chunk, ctx.signal);
    rows += chunkRows;
    bytes += chunkBytes;
    ctx.progress({ rows: chunkRows, bytes: chunkBytes });
    chunk = [];
    chunkBytes = 0;
    chunkRows = 0;
  };
  for await (const batch of batches) {
    ctx.signal.throwIfAborted();
    for (const row of batch.rows) {
      const line = Buffer.from(encoder.line(row), 'utf8');
      chunk.push(line);
      chunkBytes += line.length;
      chunkRows++;
      if (prunes) {
        const ts = sortableTimestamp(String(row.timestamp));
        if (minTs === undefined || ts < minTs) minTs = ts;
        if (maxTs === undefined || ts > maxTs) maxTs = ts;
      }
    }
    if (chunkBytes >= loadChunkBytes(config)) await flush();
  }
  await flush();
  return {
    rows,
    bytes,
    range: minTs && maxTs ? { min: timestampLiteral(minTs), max: timestampLiteral(maxTs) } : undefined,
    replacements: encoder.replacements.list(),
  };
}

const countNewlines = (chunk: Uint8Array) => {
  let n = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  return n;
};

/**
 * Streams the run's NDJSON (ClickHouse's bytes, never parsed) into load jobs of about `load_job_size_mb` each, cut at
 * line breaks. A job that is full is finished while the next one uploads, so at most two are open; the bytes wait
 * in ClickHouse (back-pressure), never here.
 */
async function loadStageFromBytes(client: BigQueryClient, stageId: string, ctx: RunContext, config: BigQueryConfig, run: EncodedRun): Promise<LoadedStage> {
  const table = client.dataset.table(stageId);
  const chunkBytes = loadChunkBytes(config);
  const part = await run.open();
  let job: { load: LoadJob; rows: number; bytes: number } | undefined;
  let finishing: Promise<void> | undefined;
  const finish = (full: { load: LoadJob; rows: number; bytes: number }, previous: Promise<void> | undefined) => {
    const done = (async () => {
      await full.load.finish();
      await previous;
      ctx.progress({ rows: full.rows, bytes: full.bytes });
    })();
    done.catch(() => undefined); // awaited below, before anything else is started
    return done;
  };
  const append = async (bytes: Uint8Array) => {
    if (!bytes.byteLength) return;
    job ??= { load: client.openLoad(table, ctx.signal), rows: 0, bytes: 0 };
    job.rows += countNewlines(bytes);
    job.bytes += bytes.byteLength;
    await job.load.write(bytes);
  };
  try {
    for await (const chunk of part.chunks) {
      ctx.signal.throwIfAborted();
      const cut = job && job.bytes >= chunkBytes ? chunk.indexOf(10) : -1;
      if (cut === -1) {
        await append(chunk);
        continue;
      }
      await append(chunk.subarray(0, cut + 1));
      // The job before the one just filled must be done before a third one opens.
      await finishing;
      finishing = finish(job!, undefined);
      job = undefined;
      await append(chunk.subarray(cut + 1));
    }
    if (job) {
      finishing = finish(job, finishing);
      job = undefined;
    }
    await finishing;
  } catch (err) {
    job?.load.abort(err instanceof Error ? err : new Error(String(err)));
    // A job still loading could otherwise add rows to the stage after it is dropped, or to a retry's new stage.
    await finishing?.catch(() => undefined);
    throw err;
  }
  const streamed = await part.finished();
  const range = prunesByTimestamp(ctx.schema) && streamed.rows > 0 ? await stageTimestampRange(client, stageId) : undefined;
  return { rows: streamed.rows, bytes: streamed.bytes, range, replacements: [] };
}

/** The stage's timestamps as the MERGE's range, read back from BigQuery (the byte path never sees a row). */
async function stageTimestampRange(client: BigQueryClient, stageId: string): Promise<{ min: string; max: string } | undefined> {
  const ref = { projectId: client.config.project_id, datasetId: client.config.dataset_id, tableId: stageId };
  const [range] = await client.query<{ min_ts: { value: string } | null; max_ts: { value: string } | null }>(timestampRangeStatement(ref));
  if (!range?.min_ts || !range.max_ts) return undefined;
  // The SDK spells them with nanoseconds (PreciseDate); BigQuery keeps microseconds.
  const micros = (t: { value: string }) => timestampLiteral(sortableTimestamp(t.value.replace(/(\.\d{6})\d*Z$/, '$1Z')));
  return { min: micros(range.min_ts), max: micros(range.max_ts) };
}

/**
 * Under use_json_type a json value must be a document (the row path refuses the row); the byte path wrote such
 * values as JSON strings and the host counted them: refuse the run the same way, before anything reaches the table.
 */
function refuseValuesNotJson(ctx: RunContext, config: BigQueryConfig, replacements: Replacement[]): void {
  if (!config.use_json_type) return;
  const json = new Set(ctx.schema.columns.filter((c) => c.type === 'json').map((c) => c.name));
  const notJson = replacements.filter((r) => r.rule === 'invalid_json_as_string' && json.has(r.column) && r.count > 0);
  if (!notJson.length) return;
  const which = notJson.map((r) => `column ${r.column} holds ${r.count} ${r.count === 1 ? 'value that is' : 'values that are'} not valid JSON`);
  throw new DestinationError(
    'permanent',
    `${which.join('; ')}, which a BigQuery JSON column requires (set use_json_type to false to keep them as text)`,
    { code: 'BAD_ROW' },
  );
}

/**
 * One run, either path: the final table made or evolved, a fresh stage filled by `fill`, then one MERGE and the
 * count of what landed. The stage is dropped whatever happens.
 */
async function landRun(
  config: BigQueryConfig,
  ctx: RunContext,
  fill: (client: BigQueryClient, stageId: string) => Promise<LoadedStage>,
  beforeMerge: () => Promise<void> = async () => undefined,
): Promise<WriteResult> {
  const client = new BigQueryClient(config, ctx.signal);
  const tableId = config.table_id ?? ctx.model;
  const stageId = stageTableId(tableId, ctx.runId);
  const ref = (t: string): TableRef => ({ projectId: config.project_id, datasetId: config.dataset_id, tableId: t });
  const fields = bigQueryFields(ctx.schema, config.use_json_type);
  let stageMayExist = false;
  try {
    await client.checkDataset();
    await ensureFinalTable(client, tableId, ctx.schema, fields, ctx);
    // A crashed earlier attempt may have left a half-loaded stage: start from nothing.
    stageMayExist = true;
    await client.dropTable(stageId);
    await client.createTable(stageId, fields, { expiresInMs: STAGE_TTL_MS });
    const loaded = await fill(client, stageId);
    ctx.signal.throwIfAborted();
    await beforeMerge();
    let rowsLanded = 0;
    if (loaded.rows > 0) {
      await client.query(mergeStatement(ctx.schema, ref(tableId), ref(stageId), loaded.range));
      const [count] = await client.query<{ landed: number }>(landedCountStatement(ctx.schema, ref(tableId), ref(stageId)));
      rowsLanded = Number(count?.landed ?? 0);
    }
    ctx.logger.info('BigQuery run landed', { table: tableId, stage: stageId, rowsLoaded: loaded.rows, rowsLanded });
    return {
      rowsLanded,
      bytesWritten: loaded.bytes,
      details: { table: `${config.project_id}:${config.dataset_id}.${tableId}`, stage: stageId, rowsLoaded: loaded.rows },
      replacements: loaded.replacements,
    };
  } catch (err) {
    throw classifyBigQueryError(err);
  } finally {
    if (stageMayExist) {
      try {
        await new BigQueryClient(config).dropTable(stageId);
      } catch (err) {
        // Never hide the run's own error; the stage expires on its own after a day.
        ctx.logger.warn('Could not drop the BigQuery staging table; it expires within a day', {
          stage: stageId,
          error: (err as Error).message,
        });
      }
    }
  }
}

/** The byte path's format for a config: json columns as the table stores them. */
export function bigQueryWireFormat(config: BigQueryConfig): WireFormat {
  return { format: 'bigquery-ndjson', compression: 'none', jsonColumns: config.use_json_type ? 'document' : 'text' };
}

export default defineDestination<BigQueryConfig>({
  id: 'bigquery',
  displayName: 'BigQuery',
  description: 'Loads runs into BigQuery tables through staging tables and MERGE, so retries never duplicate rows.',
  configSchema: bigQueryConfigSchema,
  secretFields: ['credentials_json'],
  models: MODELS,
  capabilities: { merge: true, suggestedConcurrency: 2, wireFormats: ['bigquery-ndjson'] },

  async testConnection(config, ctx) {
    // One API call signs in with the service account and needs access to the dataset.
    await connectionStep(ctx, 'permissions', async () => {
      try {
        await new BigQueryClient(config, ctx.signal).checkDataset();
      } catch (err) {
        throw classifyBigQueryError(err);
      }
    }, `Dataset ${config.project_id}.${config.dataset_id} exists and the service account can use it.`);
  },

  write(config, ctx, batches): Promise<WriteResult> {
    return landRun(config, ctx, (client, stageId) => loadStage(client, stageId, ctx, config, batches));
  },

  wireFormat: (config) => bigQueryWireFormat(config),

  writeEncoded(config, ctx, run): Promise<WriteResult> {
    return landRun(
      config,
      ctx,
      (client, stageId) => loadStageFromBytes(client, stageId, ctx, config, run),
      async () => refuseValuesNotJson(ctx, config, await run.replacements()),
    );
  },

  classifyError: classifyBigQueryError,
});
