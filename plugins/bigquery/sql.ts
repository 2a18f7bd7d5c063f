/**
 * The GoogleSQL statements the plugin runs. They stick to forms that BigQuery documents (MERGE with conditional
 * WHEN clauses, ROW_NUMBER windows, correlated EXISTS, timestamp literals), written without shortcuts such as
 * QUALIFY or SELECT * EXCEPT, so each statement reads on its own.
 */
import { newerVersionSql, type ModelSchema } from '../../src/sdk';

export interface TableRef {
  projectId: string;
  datasetId: string;
  tableId: string;
}

export const tableName = (t: TableRef) => `\`${t.projectId}.${t.datasetId}.${t.tableId}\``;
const q = (column: string) => `\`${column}\``;

/** Stage rows, one per key: the latest version for mutable models, any copy for events (copies are equal). */
function dedupedStage(schema: ModelSchema, stage: TableRef): string {
  const cols = schema.columns.map((c) => q(c.name)).join(', ');
  // Immutable rows: any copy will do, the latest inserted when the export has `_inserted_at`.
  const order = schema.versionColumns.length
    ? schema.versionColumns.map((v) => `${q(v)} DESC`).join(', ')
    : schema.columns.some((c) => c.name === '_inserted_at') ? `${q('_inserted_at')} DESC` : schema.key.map(q).join(', ');
  return (
    `SELECT ${cols} FROM (\n` +
    `    SELECT ${cols}, ROW_NUMBER() OVER (PARTITION BY ${schema.key.map(q).join(', ')} ORDER BY ${order}) AS outport_rn\n` +
    `    FROM ${tableName(stage)}\n` +
    `  ) AS ranked WHERE outport_rn = 1`
  );
}

const keyMatch = (schema: ModelSchema, target: string, source: string) =>
  schema.key.map((k) => `${target}.${q(k)} = ${source}.${q(k)}`).join(' AND ');

/**
 * One atomic statement that lands the stage in the final table.
 * Events: rows whose key is absent are inserted, so a retried or overlapping run adds nothing twice. The optional
 * timestamp range (the stage's min/max) lets BigQuery prune the day partitions it must scan: an event's
 * timestamp never changes, so a matching row can only lie in that range.
 * Mutable models: a stored row is replaced only when the incoming versions are greater (`newerVersionSql`).
 */
export function mergeStatement(
  schema: ModelSchema,
  final: TableRef,
  stage: TableRef,
  timestampRange?: { min: string; max: string },
): string {
  const cols = schema.columns.map((c) => q(c.name));
  let on = keyMatch(schema, 'T', 'S');
  // The caller passes a range only where pruning on `timestamp` is sound (index.ts, prunesByTimestamp).
  if (timestampRange && !schema.mutable) {
    on += ` AND T.${q('timestamp')} BETWEEN TIMESTAMP '${timestampRange.min}' AND TIMESTAMP '${timestampRange.max}'`;
  }
  const lines = [`MERGE INTO ${tableName(final)} AS T`, `USING (${dedupedStage(schema, stage)}) AS S`, `ON ${on}`];
  if (schema.mutable) {
    const newer = newerVersionSql(schema, (c) => `S.${q(c)}`, (c) => `T.${q(c)}`);
    const set = schema.columns
      .filter((c) => !schema.key.includes(c.name))
      .map((c) => `${q(c.name)} = S.${q(c.name)}`)
      .join(', ');
    lines.push(`WHEN MATCHED AND ${newer} THEN UPDATE SET ${set}`);
  }
  lines.push(`WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `S.${c}`).join(', ')})`);
  return lines.join('\n');
}

/**
 * How many distinct stage keys are present in the final table: the run's rows that landed. Mutable models count a
 * key only where the stored versions are not older than the stage's latest row (the same or newer content).
 */
export function landedCountStatement(schema: ModelSchema, final: TableRef, stage: TableRef): string {
  if (!schema.mutable) {
    return (
      `SELECT COUNT(*) AS landed FROM (SELECT DISTINCT ${schema.key.map(q).join(', ')} FROM ${tableName(stage)}) AS S\n` +
      `WHERE EXISTS (SELECT 1 FROM ${tableName(final)} AS T WHERE ${keyMatch(schema, 'T', 'S')})`
    );
  }
  const stageNewer = newerVersionSql(schema, (c) => `S.${q(c)}`, (c) => `T.${q(c)}`);
  return (
    `SELECT COUNT(*) AS landed FROM (${dedupedStage(schema, stage)}) AS S\n` +
    `WHERE EXISTS (SELECT 1 FROM ${tableName(final)} AS T WHERE ${keyMatch(schema, 'T', 'S')} AND NOT ${stageNewer})`
  );
}

/** The stage's first and last `timestamp`: the MERGE's pruning range when the rows were never seen (byte path). */
export function timestampRangeStatement(stage: TableRef): string {
  return `SELECT MIN(${q('timestamp')}) AS min_ts, MAX(${q('timestamp')}) AS max_ts FROM ${tableName(stage)}`;
}
