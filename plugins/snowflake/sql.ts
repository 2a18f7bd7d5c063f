/** The Snowflake statements of one run. Every identifier is quoted; column names are the model's, in upper case. */
import { newerVersionSql, type Column, type ColumnType, type ModelSchema } from '../../src/sdk';
import { quoteIdent } from './identifiers';

const TYPES: Record<ColumnType, string> = {
  string: 'VARCHAR',
  int: 'NUMBER(38,0)',
  float: 'FLOAT',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP_TZ(6)',
  json: 'VARIANT',
};

export const col = (c: Column | string) => quoteIdent((typeof c === 'string' ? c : c.name).toUpperCase());

function columnDefs(schema: ModelSchema, jsonAs: 'VARIANT' | 'VARCHAR'): string {
  return schema.columns
    .map((c) => `${col(c)} ${c.type === 'json' ? jsonAs : TYPES[c.type]}${c.nullable ? '' : ' NOT NULL'}`)
    .join(', ');
}

export const createTarget = (table: string, schema: ModelSchema) => `CREATE TABLE IF NOT EXISTS ${table} (${columnDefs(schema, 'VARIANT')})`;

export const describeTable = (table: string) => `DESCRIBE TABLE ${table}`;
/** The type a column is created with in the target table. */
export const targetType = (c: Column) => TYPES[c.type];
/** Added columns are nullable: rows already stored hold NULL. */
export const addColumn = (table: string, c: Column) => `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${col(c)} ${TYPES[c.type]}`;
export const dropNotNull = (table: string, column: string) => `ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(column)} DROP NOT NULL`;

/** JSON columns stay text in the stage (exactly the source's JSON); PARSE_JSON turns them into VARIANT on merge. */
export const createStage = (stage: string, schema: ModelSchema) => `CREATE OR REPLACE TRANSIENT TABLE ${stage} (${columnDefs(schema, 'VARCHAR')})`;

export const put = (localFile: string, stageLocation: string) =>
  `PUT '${'file://' + localFile.replace(/'/g, "\\'")}' @${stageLocation} AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = TRUE PARALLEL = 4`;

export const copy = (stage: string, stageLocation: string) =>
  `COPY INTO ${stage} FROM @${stageLocation} FILE_FORMAT = (TYPE = JSON COMPRESSION = GZIP) ` +
  'MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE ON_ERROR = ABORT_STATEMENT';

export const removeStage = (stageLocation: string) => `REMOVE @${stageLocation}`;
export const dropTable = (table: string) => `DROP TABLE IF EXISTS ${table}`;
export const statementTimeout = (seconds: number) => `ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = ${Math.floor(seconds)}`;

const sourceValue = (c: Column) => (c.type === 'json' ? `PARSE_JSON(s.${col(c)})` : `s.${col(c)}`);
const keyMatch = (schema: ModelSchema, a: string, b: string) => schema.key.map((k) => `${a}.${col(k)} = ${b}.${col(k)}`).join(' AND ');

/**
 * One atomic statement. Events: insert keys that are absent (a retry or an overlapping run adds nothing).
 * Mutable models: insert new keys, replace a stored row only when the incoming versions are greater (`newerVersionSql`).
 * The stage is first reduced to one row per key (the highest versions), as MERGE refuses duplicate matches.
 */
function latestPerKey(stage: string, schema: ModelSchema): string {
  // `_inserted_at` only breaks ties, and only when the export has it (a field selection or custom query may not).
  const tieBreak = schema.columns.some((c) => c.name === '_inserted_at') ? [`${col('_inserted_at')} DESC`] : [];
  const order = [...schema.versionColumns.map((v) => `${col(v)} DESC`), ...tieBreak, ...schema.key.map(col)].join(', ');
  return (
    `SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${schema.key.map(col).join(', ')} ORDER BY ${order}) AS "OUTPORT_RN" ` +
    `FROM ${stage}) WHERE "OUTPORT_RN" = 1`
  );
}

/**
 * `keysUnique`: the stage holds each key once (the byte path's whole-model queries deduplicate by key), so an
 * immutable model's stage is merged as it is, without the per-key reduction (a sort of the whole stage).
 */
export function merge(target: string, stage: string, schema: ModelSchema, options: { keysUnique?: boolean } = {}): string {
  const source = options.keysUnique && !schema.mutable ? stage : `(${latestPerKey(stage, schema)})`;
  const insert =
    `WHEN NOT MATCHED THEN INSERT (${schema.columns.map(col).join(', ')}) ` +
    `VALUES (${schema.columns.map(sourceValue).join(', ')})`;
  let update = '';
  if (schema.mutable && schema.versionColumns.length > 0) {
    const newer = newerVersionSql(schema, (c) => `s.${col(c)}`, (c) => `t.${col(c)}`);
    const sets = schema.columns.filter((c) => !schema.key.includes(c.name)).map((c) => `${col(c)} = ${sourceValue(c)}`);
    update = `WHEN MATCHED AND ${newer} THEN UPDATE SET ${sets.join(', ')} `;
  }
  return `MERGE INTO ${target} AS t USING ${source} AS s ON ${keyMatch(schema, 't', 's')} ${update}${insert}`;
}

/**
 * Distinct stage keys present in the target after the merge: what reconciliation compares with rows read. Mutable
 * models count a key only where the stored versions are not older than the stage's latest row (the same or newer
 * content).
 */
export function countLanded(target: string, stage: string, schema: ModelSchema): string {
  if (!schema.mutable || schema.versionColumns.length === 0) {
    return (
      `SELECT COUNT(*) AS "LANDED" FROM (SELECT DISTINCT ${schema.key.map(col).join(', ')} FROM ${stage}) AS s ` +
      `WHERE EXISTS (SELECT 1 FROM ${target} AS t WHERE ${keyMatch(schema, 't', 's')})`
    );
  }
  const stageNewer = newerVersionSql(schema, (c) => `s.${col(c)}`, (c) => `t.${col(c)}`);
  return (
    `SELECT COUNT(*) AS "LANDED" FROM (${latestPerKey(stage, schema)}) AS s ` +
    `WHERE EXISTS (SELECT 1 FROM ${target} AS t WHERE ${keyMatch(schema, 't', 's')} AND NOT ${stageNewer})`
  );
}
