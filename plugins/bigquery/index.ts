/**
 * BigQuery destination.
 *
 * A run loads its rows (newline-delimited JSON load jobs, one per ~64 MiB chunk) into a staging table named after
 * the run, then one MERGE lands them in the final table: events insert the keys that are absent, persons and
 * sessions replace a stored row only when a version column grew. The stage is dropped whatever happens, and
 * expires by itself after a day in case even that fails. Retried runs therefore replace, never add.
 */
import { createHash } from 'node:crypto';
import { MODELS, connectionStep, defineDestination, describeAppliedPlan, isEmptyPlan, schemaChangeError } from '../../src/sdk';
import type { ModelSchema, RecordBatch, RunContext, WriteResult } from '../../src/sdk';
import { BigQueryClient } from './client';
import { bigQueryConfigSchema } from './config';
import type { BigQueryConfig } from './config';
import { classifyBigQueryError } from './errors';
import { NdjsonEncoder, bigQueryFields, bigQueryType, evolvedFields, planTableChange, sortableTimestamp } from './schema';
import type { BigQueryField } from './schema';
import { landedCountStatement, mergeStatement } from './sql';
import type { TableRef } from './sql';

/** Bytes per load job. BigQuery takes far more per job; this bounds the memory a run holds. */
export const LOAD_CHUNK_BYTES = 64 * 1024 * 1024;
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

async function loadStage(
  client: BigQueryClient,
  stageId: string,
  ctx: RunContext,
  config: BigQueryConfig,
  batches: AsyncIterable<RecordBatch>,
) {
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
    if (chunkBytes >= LOAD_CHUNK_BYTES) await flush();
  }
  await flush();
  const literal = (iso: string) => iso.replace('T', ' ').replace('Z', '+00:00');
  return {
    rows,
    bytes,
    range: minTs && maxTs ? { min: literal(minTs), max: literal(maxTs) } : undefined,
    replacements: encoder.replacements.list(),
  };
}

export default defineDestination<BigQueryConfig>({
  id: 'bigquery',
  displayName: 'BigQuery',
  description: 'Loads runs into BigQuery tables through staging tables and MERGE, so retries never duplicate rows.',
  configSchema: bigQueryConfigSchema,
  secretFields: ['credentials_json'],
  models: MODELS,
  capabilities: { merge: true, suggestedConcurrency: 2 },

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

  async write(config, ctx, batches): Promise<WriteResult> {
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
      const loaded = await loadStage(client, stageId, ctx, config, batches);
      ctx.signal.throwIfAborted();
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
  },

  classifyError: classifyBigQueryError,
});
