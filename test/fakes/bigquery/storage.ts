/**
 * The fake's datasets and tables, kept in a real Postgres database (one per fake instance): a dataset is a
 * schema, a table is a table. Column types: STRING and JSON -> bytea (UTF-8 bytes: BigQuery strings may hold
 * U+0000, which Postgres text cannot, and compare byte-wise as BigQuery's do), INT64 -> bigint,
 * FLOAT64 -> double precision, BOOL -> boolean, TIMESTAMP -> timestamptz (microseconds, session time zone UTC).
 */
import { createHash } from 'node:crypto';
import { Client, Pool } from 'pg';
import type { PoolClient } from 'pg';
import { BigQueryError } from './errors';
import { translateGoogleSql } from './translate';

export interface FieldSchema {
  name: string;
  type: string;
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
}

export interface TableResource {
  kind: 'bigquery#table';
  id: string;
  tableReference: { projectId: string; datasetId: string; tableId: string };
  schema: { fields: FieldSchema[] };
  timePartitioning?: { type: string; field?: string };
  clustering?: { fields: string[] };
  expirationTime?: string;
  creationTime: string;
  type: 'TABLE';
  location: string;
}

const PG_TYPES: Record<string, string> = {
  STRING: 'bytea', JSON: 'bytea', INT64: 'bigint', INTEGER: 'bigint', FLOAT64: 'double precision',
  FLOAT: 'double precision', BOOL: 'boolean', BOOLEAN: 'boolean', TIMESTAMP: 'timestamptz',
};

/** Postgres names are at most 63 bytes; BigQuery's are longer. Long names get a stable digest instead. */
const pgName = (prefix: string, name: string) =>
  Buffer.byteLength(name) <= 60 ? name : `${prefix}${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

export interface QueryOutcome {
  schema: { fields: FieldSchema[] };
  rows: { f: { v: unknown }[] }[];
  /** Rows as typed cells, for re-encoding with other format options. */
  raw: unknown[][];
  numDmlAffectedRows?: number;
  statementType: string;
}

export class FakeStorage {
  private readonly pool: Pool;

  private constructor(
    readonly databaseUrl: string,
    readonly databaseName: string,
    private readonly serverUrl: string,
    readonly projectId: string,
    readonly location: string,
  ) {
    // Raw text for bigint and timestamps: JS numbers and Dates would lose digits and microseconds.
    this.pool = new Pool({
      connectionString: databaseUrl,
      max: 4,
      options: '-c TimeZone=UTC',
      types: { getTypeParser: ((oid: number, format: string) => ([20, 1114, 1184, 701, 700].includes(oid) ? (v: string) => v : defaultParser(oid, format))) as never },
    });
    // pool.end() resolves once its clients are told to end, not once their sockets closed: close()'s DROP DATABASE
    // ... WITH (FORCE) can then terminate one (57P01) after the pool let go of it, an 'error' nobody listened to,
    // which failed a test suite in CI. A query's own errors still reach its caller.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.pool.on('error', () => undefined);
  }

  static async create(serverUrl: string, projectId: string, location: string): Promise<FakeStorage> {
    const name = `bqfake_${createHash('sha256').update(String(Math.random()) + Date.now()).digest('hex').slice(0, 10)}`;
    const admin = new Client(serverUrl);
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(serverUrl);
    url.pathname = '/' + name;
    const storage = new FakeStorage(url.toString(), name, serverUrl, projectId, location);
    await storage.pool.query(`CREATE TABLE fake_tables (dataset text, table_id text, pg_table text NOT NULL, resource jsonb NOT NULL, PRIMARY KEY (dataset, table_id))`);
    await storage.pool.query(`CREATE TABLE fake_datasets (dataset text PRIMARY KEY, pg_schema text NOT NULL, resource jsonb NOT NULL)`);
    return storage;
  }

  async close(dropDatabase = true): Promise<void> {
    await this.pool.end();
    if (!dropDatabase) return;
    const admin = new Client(this.serverUrl);
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${this.databaseName} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }

  checkProject(projectId: string): void {
    if (projectId !== this.projectId) throw new BigQueryError(404, 'notFound', `Not found: Project ${projectId}`);
  }

  async createDataset(datasetId: string): Promise<unknown> {
    const schema = pgName('ds_', datasetId);
    const resource = {
      kind: 'bigquery#dataset',
      id: `${this.projectId}:${datasetId}`,
      datasetReference: { projectId: this.projectId, datasetId },
      location: this.location,
      creationTime: String(Date.now()),
    };
    await this.pool.query(`CREATE SCHEMA ${ident(schema)}`);
    await this.pool.query(`INSERT INTO fake_datasets VALUES ($1, $2, $3)`, [datasetId, schema, resource]);
    return resource;
  }

  async getDataset(datasetId: string): Promise<{ resource: unknown; pgSchema: string }> {
    const r = await this.pool.query(`SELECT pg_schema, resource FROM fake_datasets WHERE dataset = $1`, [datasetId]);
    if (!r.rowCount) throw new BigQueryError(404, 'notFound', `Not found: Dataset ${this.projectId}:${datasetId}`);
    return { resource: r.rows[0].resource, pgSchema: r.rows[0].pg_schema };
  }

  private notFoundTable(datasetId: string, tableId: string) {
    return new BigQueryError(404, 'notFound', `Not found: Table ${this.projectId}:${datasetId}.${tableId}`);
  }

  async getTable(datasetId: string, tableId: string): Promise<{ resource: TableResource; qualified: string }> {
    const { pgSchema } = await this.getDataset(datasetId);
    const r = await this.pool.query(`SELECT pg_table, resource FROM fake_tables WHERE dataset = $1 AND table_id = $2`, [datasetId, tableId]);
    if (!r.rowCount) throw this.notFoundTable(datasetId, tableId);
    return { resource: r.rows[0].resource, qualified: `${ident(pgSchema)}.${ident(r.rows[0].pg_table)}` };
  }

  async tableRowCount(qualified: string): Promise<number> {
    const r = await this.pool.query(`SELECT count(*)::int AS n FROM ${qualified}`);
    return r.rows[0].n;
  }

  async listTables(datasetId: string): Promise<string[]> {
    const r = await this.pool.query(`SELECT table_id FROM fake_tables WHERE dataset = $1 ORDER BY table_id`, [datasetId]);
    return r.rows.map((x) => x.table_id);
  }

  async insertTable(datasetId: string, body: Partial<TableResource>): Promise<TableResource> {
    const { pgSchema } = await this.getDataset(datasetId);
    const tableId = body.tableReference?.tableId;
    if (!tableId || !/^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd} ]{1,1024}$/u.test(tableId)) {
      throw new BigQueryError(400, 'invalid', `Invalid table ID "${tableId ?? ''}".`);
    }
    const fields = body.schema?.fields ?? [];
    const columns = fields.map((f) => {
      const type = PG_TYPES[String(f.type).toUpperCase()];
      if (!type || f.mode === 'REPEATED') throw new BigQueryError(400, 'invalid', `The fake BigQuery does not support field ${f.name} of type ${f.type} ${f.mode ?? ''}`.trim());
      return `${ident(f.name)} ${type}${f.mode === 'REQUIRED' ? ' NOT NULL' : ''}`;
    });
    if (body.timePartitioning?.field && !fields.some((f) => f.name === body.timePartitioning!.field && /^(TIMESTAMP|DATE|DATETIME)$/i.test(f.type))) {
      throw new BigQueryError(400, 'invalid', `The field specified for partitioning cannot be found in the schema or is not a TIMESTAMP/DATE column`);
    }
    const resource: TableResource = {
      kind: 'bigquery#table',
      id: `${this.projectId}:${datasetId}.${tableId}`,
      tableReference: { projectId: this.projectId, datasetId, tableId },
      schema: { fields },
      timePartitioning: body.timePartitioning,
      clustering: body.clustering,
      expirationTime: body.expirationTime,
      creationTime: String(Date.now()),
      type: 'TABLE',
      location: this.location,
    };
    const pgTable = pgName('t_', tableId);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const exists = await client.query(`INSERT INTO fake_tables VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [datasetId, tableId, pgTable, resource]);
      if (!exists.rowCount) throw new BigQueryError(409, 'duplicate', `Already Exists: Table ${this.projectId}:${datasetId}.${tableId}`);
      await client.query(`CREATE TABLE ${ident(pgSchema)}.${ident(pgTable)} (${columns.join(', ')})`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
    return resource;
  }

  /**
   * tables.patch / tables.update of a table's schema, with BigQuery's rules: every existing field stays, with its
   * type; new fields are NULLABLE (or REPEATED, unsupported here); a mode may only relax, REQUIRED -> NULLABLE.
   * Other metadata in the body is ignored.
   */
  async patchTable(datasetId: string, tableId: string, body: Partial<TableResource>): Promise<TableResource> {
    const { resource, qualified } = await this.getTable(datasetId, tableId);
    if (!body.schema) return resource;
    const name = `${this.projectId}:${datasetId}.${tableId}`;
    const mismatch = (what: string) => new BigQueryError(400, 'invalid', `Provided Schema does not match Table ${name}. ${what}`);
    const next = body.schema.fields ?? [];
    const byName = new Map(next.map((f) => [f.name.toLowerCase(), f]));
    const alterations: string[] = [];
    for (const old of resource.schema.fields) {
      const f = byName.get(old.name.toLowerCase());
      if (!f) throw mismatch(`Field ${old.name} is missing in new schema`);
      if (String(f.type).toUpperCase() !== String(old.type).toUpperCase()) throw mismatch(`Field ${old.name} has changed type from ${old.type} to ${f.type}`);
      const oldMode = old.mode ?? 'NULLABLE';
      const newMode = f.mode ?? 'NULLABLE';
      if (oldMode !== newMode) {
        if (!(oldMode === 'REQUIRED' && newMode === 'NULLABLE')) throw mismatch(`Field ${old.name} has changed mode from ${oldMode} to ${newMode}`);
        alterations.push(`ALTER COLUMN ${ident(old.name)} DROP NOT NULL`);
      }
    }
    const known = new Set(resource.schema.fields.map((f) => f.name.toLowerCase()));
    for (const f of next) {
      if (known.has(f.name.toLowerCase())) continue;
      if (f.mode === 'REQUIRED') throw mismatch(`Cannot add required fields to an existing schema. (field: ${f.name})`);
      const type = PG_TYPES[String(f.type).toUpperCase()];
      if (!type || f.mode === 'REPEATED') throw new BigQueryError(400, 'invalid', `The fake BigQuery does not support field ${f.name} of type ${f.type} ${f.mode ?? ''}`.trim());
      alterations.push(`ADD COLUMN ${ident(f.name)} ${type}`);
    }
    const updated: TableResource = { ...resource, schema: { fields: next } };
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (alterations.length) await client.query(`ALTER TABLE ${qualified} ${alterations.join(', ')}`);
      await client.query(`UPDATE fake_tables SET resource = $3 WHERE dataset = $1 AND table_id = $2`, [datasetId, tableId, updated]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
    return updated;
  }

  async deleteTable(datasetId: string, tableId: string): Promise<void> {
    const { qualified } = await this.getTable(datasetId, tableId);
    await this.pool.query(`DELETE FROM fake_tables WHERE dataset = $1 AND table_id = $2`, [datasetId, tableId]);
    await this.pool.query(`DROP TABLE ${qualified}`);
  }

  /**
   * A load job of newline-delimited JSON: all rows or none (one transaction), BigQuery's load error messages.
   * Returns the number of rows written.
   */
  async load(
    datasetId: string,
    tableId: string,
    data: Buffer,
    options: { writeDisposition?: string; createDisposition?: string; schema?: { fields: FieldSchema[] }; ignoreUnknownValues?: boolean },
  ): Promise<number> {
    let table: { resource: TableResource; qualified: string };
    try {
      table = await this.getTable(datasetId, tableId);
    } catch (err) {
      if (!(err instanceof BigQueryError) || err.reason !== 'notFound' || options.createDisposition === 'CREATE_NEVER' || !options.schema) throw err;
      await this.insertTable(datasetId, { tableReference: { projectId: this.projectId, datasetId, tableId }, schema: options.schema });
      table = await this.getTable(datasetId, tableId);
    }
    const fields = table.resource.schema.fields;
    const rows: unknown[][] = [];
    let offset = 0;
    for (const lineBuf of splitLines(data)) {
      const position = offset;
      offset += lineBuf.length + 1;
      const line = lineBuf.toString('utf8');
      if (!line.trim()) continue;
      const fail = (what: string) =>
        new BigQueryError(400, 'invalid', `Error while reading data, error message: JSON parsing error in row starting at position ${position}: ${what}`);
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw fail(`Parser terminated before end of string (${(e as Error).message})`);
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw fail('Row is not a JSON object');
      if (!options.ignoreUnknownValues) {
        for (const k of Object.keys(obj)) if (!fields.some((f) => f.name.toLowerCase() === k.toLowerCase())) throw fail(`No such field: ${k}.`);
      }
      rows.push(fields.map((f) => toPgValue(f, obj[f.name], fail)));
    }
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (options.writeDisposition === 'WRITE_TRUNCATE') await client.query(`DELETE FROM ${table.qualified}`);
      if (options.writeDisposition === 'WRITE_EMPTY' && (await client.query(`SELECT 1 FROM ${table.qualified} LIMIT 1`)).rowCount) {
        throw new BigQueryError(400, 'duplicate', `Already Exists: Table ${table.resource.id} is not empty (WRITE_EMPTY)`);
      }
      await insertRows(client, table.qualified, fields, rows);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
    return rows.length;
  }

  /** Runs one statement of the supported GoogleSQL subset. */
  async query(sql: string, defaultDataset?: { datasetId: string }): Promise<QueryOutcome> {
    const tables = await this.pool.query(`SELECT t.dataset, t.table_id, t.pg_table, d.pg_schema FROM fake_tables t JOIN fake_datasets d USING (dataset)`);
    const datasets = await this.pool.query(`SELECT dataset FROM fake_datasets`);
    const pgSql = translateGoogleSql(sql, (datasetId, tableId, projectId) => {
      if (projectId !== undefined) this.checkProject(projectId);
      const ds = datasetId ?? defaultDataset?.datasetId;
      if (!datasets.rows.some((d) => d.dataset === ds)) throw new BigQueryError(404, 'notFound', `Not found: Dataset ${this.projectId}:${ds} was not found in location ${this.location}`);
      const t = tables.rows.find((x) => x.dataset === ds && x.table_id === tableId);
      if (!t) throw new BigQueryError(404, 'notFound', `Not found: Table ${this.projectId}:${ds}.${tableId} was not found in location ${this.location}`);
      return `${ident(t.pg_schema)}.${ident(t.pg_table)}`;
    });
    let result;
    try {
      result = await this.pool.query({ text: pgSql, rowMode: 'array' });
    } catch (err) {
      const e = err as { message: string; code?: string };
      // Postgres constraint violations are what BigQuery reports as invalid data (e.g. NULL into REQUIRED).
      throw new BigQueryError(400, e.code?.startsWith('23') ? 'invalid' : 'invalidQuery', `Query error: ${e.message}`);
    }
    const statementType = /^\s*(\w+)/.exec(sql)![1].toUpperCase();
    if (statementType !== 'SELECT') return { schema: { fields: [] }, rows: [], raw: [], numDmlAffectedRows: result.rowCount ?? 0, statementType };
    const fields = result.fields.map((f) => ({ name: f.name, type: BQ_TYPE_OF_OID[f.dataTypeID] ?? 'STRING', mode: 'NULLABLE' as const }));
    return { schema: { fields }, rows: [], raw: result.rows as unknown[][], statementType };
  }

  /** A page of a table's rows as typed cells (tabledata.list), in insertion order. */
  async readTable(qualified: string, startIndex: number, maxResults: number): Promise<unknown[][]> {
    const r = await this.pool.query({ text: `SELECT * FROM ${qualified} ORDER BY ctid OFFSET $1 LIMIT $2`, values: [startIndex, maxResults], rowMode: 'array' });
    return r.rows as unknown[][];
  }
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const defaultParser: (oid: number, format: string) => (v: string) => unknown = require('pg').types.getTypeParser;

const BQ_TYPE_OF_OID: Record<number, string> = {
  17: 'STRING', 25: 'STRING', 1043: 'STRING', 20: 'INT64', 21: 'INT64', 23: 'INT64', 700: 'FLOAT64', 701: 'FLOAT64',
  1700: 'FLOAT64', 16: 'BOOL', 1184: 'TIMESTAMP', 1114: 'TIMESTAMP',
};

function* splitLines(data: Buffer): Generator<Buffer> {
  let start = 0;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, start)) {
    yield data.subarray(start, i);
    start = i + 1;
  }
  if (start < data.length) yield data.subarray(start);
}

const TIMESTAMP_TEXT = /^(\d{4})-(\d{1,2})-(\d{1,2})[Tt ](\d{1,2}):(\d{2}):(\d{2})(\.\d{1,6})?\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?)?$/;

/** Converts one NDJSON value to a Postgres parameter following BigQuery's JSON load rules. */
function toPgValue(f: FieldSchema, v: unknown, fail: (what: string) => Error): unknown {
  if (v === undefined || v === null) {
    if (f.mode === 'REQUIRED') throw fail(`Missing required field: ${f.name}.`);
    return null;
  }
  switch (String(f.type).toUpperCase()) {
    case 'STRING':
      if (typeof v === 'object') throw fail(`JSON object specified for non-record field: ${f.name}`);
      return Buffer.from(String(v), 'utf8');
    case 'JSON':
      return Buffer.from(JSON.stringify(v), 'utf8');
    case 'INT64':
    case 'INTEGER':
      if (!(typeof v === 'number' && Number.isInteger(v)) && !(typeof v === 'string' && /^-?\d+$/.test(v))) throw fail(`Could not convert value to integer. Field: ${f.name}; Value: ${String(v).slice(0, 30)}`);
      return String(v);
    case 'FLOAT64':
    case 'FLOAT':
      if (typeof v !== 'number' && !(typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)))) throw fail(`Could not convert value to double. Field: ${f.name}; Value: ${String(v).slice(0, 30)}`);
      return Number(v);
    case 'BOOL':
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw fail(`Could not convert value to boolean. Field: ${f.name}; Value: ${String(v).slice(0, 30)}`);
    case 'TIMESTAMP':
      if (typeof v !== 'string' || !TIMESTAMP_TEXT.test(v.trim())) throw fail(`Couldn't convert value to timestamp: Could not parse '${String(v).slice(0, 40)}' as a timestamp. Field: ${f.name}`);
      return v.trim().replace(/\s*UTC$/, 'Z');
    default:
      throw fail(`Unsupported field type ${f.type}`);
  }
}

async function insertRows(client: PoolClient, qualified: string, fields: FieldSchema[], rows: unknown[][]): Promise<void> {
  const perStatement = Math.max(1, Math.floor(20000 / Math.max(1, fields.length)));
  const cols = fields.map((f) => ident(f.name)).join(', ');
  for (let i = 0; i < rows.length; i += perStatement) {
    const slice = rows.slice(i, i + perStatement);
    const values: unknown[] = [];
    const tuples = slice.map((row) => `(${row.map((v) => (values.push(v), `$${values.length}`)).join(', ')})`);
    try {
      await client.query(`INSERT INTO ${qualified} (${cols}) VALUES ${tuples.join(', ')}`, values);
    } catch (err) {
      throw new BigQueryError(400, 'invalid', `Error while reading data, error message: ${(err as Error).message}`);
    }
  }
}

/** Encodes a typed cell as the REST API does (`{ v: string }`, timestamps per formatOptions). */
export function encodeCell(type: string, value: unknown, int64Timestamps: boolean): unknown {
  if (value === null || value === undefined) return null;
  switch (type.toUpperCase()) {
    case 'STRING':
    case 'JSON':
      return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    case 'BOOL':
    case 'BOOLEAN':
      return value ? 'true' : 'false';
    case 'TIMESTAMP': {
      const micros = pgTimestampToMicros(String(value));
      if (int64Timestamps) return micros.toString();
      const neg = micros < 0n;
      const abs = neg ? -micros : micros;
      return `${neg ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
    }
    default:
      return String(value);
  }
}

/** `2024-01-31 23:59:59.123456+00` (the session is UTC) -> microseconds since the epoch. */
export function pgTimestampToMicros(text: string): bigint {
  const m = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::?(\d\d))?)?$/.exec(text);
  if (!m) throw new Error(`fake BigQuery: unexpected timestamp from Postgres: ${text}`);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const offsetMin = m[8] ? (m[8] === '-' ? -1 : 1) * (+m[9] * 60 + +(m[10] ?? 0)) : 0;
  return BigInt(ms - offsetMin * 60_000) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0'));
}
