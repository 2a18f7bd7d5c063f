/**
 * Every statement this plugin sends, built by pure functions so the SQL can be read and tested as text.
 * Only SQL that Redshift and Postgres both accept is used in varchar mode (no ON CONFLICT, no MERGE, no UNLOGGED,
 * no DISTKEY): Postgres stands in for Redshift in the tests. SUPER and COPY are Redshift-only.
 */
import { newerVersionSql, type Column, type ColumnType, type ModelSchema } from '../../src/sdk';
import { qualified, quoteIdent } from '../../src/sdk/pgwire';
import type { RedshiftConfig } from './config';
import { safeLiteral } from './identifiers';

export type PropertiesType = RedshiftConfig['properties_data_type'];

const TYPES: Record<Exclude<ColumnType, 'json'>, string> = {
  // Redshift's TEXT is VARCHAR(256): every text column is given the maximum explicitly.
  string: 'VARCHAR(65535)',
  int: 'BIGINT',
  float: 'DOUBLE PRECISION',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
};

export function columnType(column: Column, properties: PropertiesType): string {
  if (column.type === 'json') return properties === 'super' ? 'SUPER' : 'VARCHAR(65535)';
  return TYPES[column.type];
}

export function columnDefinition(column: Column, properties: PropertiesType, withNullability: boolean): string {
  const notNull = withNullability && !column.nullable ? ' NOT NULL' : '';
  return `${quoteIdent(column.name)} ${columnType(column, properties)}${notNull}`;
}

/** The final table. Redshift does not enforce the primary key (the merge keeps keys unique); its planner uses it. */
export function createTableSql(schema: string, table: string, model: ModelSchema, properties: PropertiesType): string {
  const columns = model.columns.map((c) => columnDefinition(c, properties, true));
  const key = model.key.map(quoteIdent).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, table)} (\n  ${columns.join(',\n  ')},\n  PRIMARY KEY (${key})\n)`;
}

/** The per-run stage: same columns, no constraints (the merge checks keys). */
export function createStageSql(schema: string, stage: string, model: ModelSchema, properties: PropertiesType): string {
  const columns = model.columns.map((c) => columnDefinition(c, properties, false));
  return `CREATE TABLE ${qualified(schema, stage)} (${columns.join(', ')})`;
}

export function dropTableSql(schema: string, table: string): string {
  return `DROP TABLE IF EXISTS ${qualified(schema, table)}`;
}

function keyMatch(model: ModelSchema, a: string, b: string): string {
  return model.key.map((k) => `${a}.${quoteIdent(k)} = ${b}.${quoteIdent(k)}`).join(' AND ');
}

/** Distinct keys in the stage: counted before the merge, the run's side of the reconciliation. */
export function stagedKeysSql(stage: string, model: ModelSchema): string {
  const key = model.key.map(quoteIdent).join(', ');
  return `SELECT COUNT(*) AS n FROM (SELECT DISTINCT ${key} FROM ${stage}) k`;
}

/**
 * Distinct stage keys the final table does not hold after the merge (0 unless something went wrong): absent, or,
 * for persons/sessions, stored at older versions than a stage row, i.e. the run's content did not land.
 */
export function missingKeysSql(finalTable: string, stage: string, model: ModelSchema): string {
  const key = model.key.map(quoteIdent).join(', ');
  const first = quoteIdent(model.key[0]);
  if (!model.mutable) {
    return (
      `SELECT COUNT(*) AS n FROM (SELECT DISTINCT ${key} FROM ${stage}) s ` +
      `LEFT JOIN ${finalTable} f ON ${keyMatch(model, 'f', 's')} WHERE f.${first} IS NULL`
    );
  }
  const versions = model.versionColumns.map(quoteIdent).join(', ');
  const stageNewer = newerVersionSql(model, (c) => `s.${quoteIdent(c)}`, (c) => `f.${quoteIdent(c)}`);
  return (
    `SELECT COUNT(*) AS n FROM (SELECT DISTINCT ${model.key.map((k) => `s.${quoteIdent(k)}`).join(', ')} ` +
    `FROM (SELECT DISTINCT ${key}, ${versions} FROM ${stage}) s ` +
    `LEFT JOIN ${finalTable} f ON ${keyMatch(model, 'f', 's')} WHERE f.${first} IS NULL OR ${stageNewer}) m`
  );
}

/**
 * The merge, in order, inside one transaction. Redshift has no ON CONFLICT, and its MERGE cannot take a
 * condition, so it is spelled as deletes and an insert:
 * - events: drop stage rows whose key is already stored, then insert one row per remaining key.
 * - persons/sessions: drop stage rows that are not newer than the stored row (`newerVersionSql`, the SDK's rule),
 *   delete the stored rows that the remaining stage rows replace, insert the latest stage row per key.
 */
export function mergeStatements(schema: string, finalName: string, stageName: string, model: ModelSchema): string[] {
  const finalTable = qualified(schema, finalName);
  const stageTable = qualified(schema, stageName);
  // Columns are qualified by the bare table names (DELETE's target takes no alias on Redshift).
  const f = quoteIdent(finalName);
  const s = quoteIdent(stageName);
  const cols = model.columns.map((c) => quoteIdent(c.name)).join(', ');
  const key = model.key.map(quoteIdent).join(', ');
  // Events are immutable: any copy of a key will do. Mutable rows: the greatest versions win.
  const order = model.mutable ? model.versionColumns.map((v) => `${quoteIdent(v)} DESC`).join(', ') : key;
  const insertLatest =
    `INSERT INTO ${finalTable} (${cols}) SELECT ${cols} FROM (` +
    `SELECT ${cols}, ROW_NUMBER() OVER (PARTITION BY ${key} ORDER BY ${order}) AS _outport_rn FROM ${stageTable}` +
    `) latest WHERE _outport_rn = 1`;
  if (!model.mutable) {
    return [`DELETE FROM ${stageTable} USING ${finalTable} WHERE ${keyMatch(model, s, f)}`, insertLatest];
  }
  const newer = newerVersionSql(model, (c) => `${s}.${quoteIdent(c)}`, (c) => `${f}.${quoteIdent(c)}`);
  return [
    `DELETE FROM ${stageTable} USING ${finalTable} WHERE ${keyMatch(model, s, f)} AND NOT ${newer}`,
    `DELETE FROM ${finalTable} USING ${stageTable} WHERE ${keyMatch(model, f, s)}`,
    insertLatest,
  ];
}

export interface CopySource {
  bucket: string;
  /** Key prefix of the run's files, ending in `/`. */
  prefix: string;
  region?: string;
  auth: { iamRole: string } | { accessKeyId: string; secretAccessKey: string };
}

/** COPY of the run's gzip JSON Lines files into the stage. Redshift-only. */
export function copySql(stage: string, model: ModelSchema, source: CopySource): string {
  const cols = model.columns.map((c) => quoteIdent(c.name)).join(', ');
  const auth =
    'iamRole' in source.auth
      ? `IAM_ROLE ${safeLiteral(source.auth.iamRole)}`
      : `CREDENTIALS ${safeLiteral(`aws_access_key_id=${source.auth.accessKeyId};aws_secret_access_key=${source.auth.secretAccessKey}`)}`;
  return [
    `COPY ${stage} (${cols})`,
    `FROM ${safeLiteral(`s3://${source.bucket}/${source.prefix}`)}`,
    auth,
    `FORMAT JSON 'auto' GZIP TIMEFORMAT 'auto'`,
    ...(source.region ? [`REGION ${safeLiteral(source.region)}`] : []),
    // COMPUPDATE/STATUPDATE analyse the data for a table that is dropped minutes later: skip the cost.
    'COMPUPDATE OFF STATUPDATE OFF',
  ].join('\n');
}

/** The first load error of the last COPY in this session (Redshift system table). */
export const LOAD_ERROR_SQL =
  'SELECT TRIM(err_reason) AS reason, TRIM(colname) AS column_name, line_number, TRIM(filename) AS filename ' +
  'FROM stl_load_errors WHERE query = pg_last_copy_id() ORDER BY starttime LIMIT 1';
