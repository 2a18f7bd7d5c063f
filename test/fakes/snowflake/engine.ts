/**
 * The fake's SQL engine: runs the Snowflake statements the Outport plugin emits on a real Postgres database.
 *
 * Naming: Snowflake `"DB"."SCHEMA"."TABLE"` becomes Postgres schema `s_<hash(DB, SCHEMA)>`, table `"TABLE"`, so any
 * database/schema name (quotes, dots, emoji) maps to a legal Postgres name. Postgres text cannot hold U+0000 but
 * Snowflake VARCHAR can, so strings are stored with a reversible escape (see `encodeText`).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import type { Client, QueryResult } from 'pg';
import { lostCreateRace } from '../../../src/sdk/pgwire/errors';
import { faults, SnowflakeFault } from './errors';

export interface Catalog {
  /** database -> schemas (exact, case-sensitive names as written between double quotes). */
  databases: Map<string, Set<string>>;
  warehouses: Map<string, 'STARTED' | 'SUSPENDED'>;
  stageRoot: string;
}

export interface SessionState {
  warehouse?: string;
  statementTimeoutSeconds: number;
  pg: Client;
}

export interface RowType {
  name: string;
  type: 'fixed' | 'real' | 'text' | 'boolean' | 'variant';
  scale: number | null;
  precision: number | null;
  length: number | null;
  byteLength: number | null;
  nullable: boolean;
}

export interface StatementResult {
  rowtype: RowType[];
  rowset: (string | null)[][];
  /** Set for PUT: what the driver needs to copy the file to the LOCAL_FS stage itself. */
  upload?: { srcLocation: string; stageDir: string; autoCompress: boolean; sourceCompression: string; overwrite: boolean };
}

const ESC = '\uE000';
/** Injective escape: NUL -> ESC '0', ESC -> ESC 'E'. Equality of encoded strings equals equality of originals. */
export const encodeText = (s: string): string => s.replace(/[\u0000\uE000]/g, (c) => (c === '\0' ? ESC + '0' : ESC + 'E'));
export const decodeText = (s: string): string => s.replace(/\uE000([0E])/g, (_, m: string) => (m === '0' ? '\0' : ESC));

/** Snowflake built-ins the plugin uses, created once per fake database. */
export const BUILTINS_SQL = `
CREATE FUNCTION parse_json(t text) RETURNS json LANGUAGE sql IMMUTABLE AS
  $$ SELECT NULLIF(replace(replace(t, U&'\\E000' || '0', '\\u0000'), U&'\\E000' || 'E', U&'\\E000'), '')::json $$;
`;

const NAME = String.raw`"((?:[^"]|"")+)"`;
const NAME3 = new RegExp(`${NAME}\\.${NAME}\\.${NAME}`, 'g');
const NAME_NC = String.raw`"(?:[^"]|"")+"`;
const REF3 = `${NAME_NC}\\.${NAME_NC}\\.${NAME_NC}`;
const STAGE_REF = `${NAME_NC}\\.${NAME_NC}\\.%${NAME_NC}(?:/[^\\s']*)?`;
const unq = (s: string) => s.replace(/""/g, '"');
const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

export function pgSchemaName(db: string, schema: string): string {
  return 's_' + createHash('sha256').update(`${db}\0${schema}`).digest('hex').slice(0, 20);
}

export class Engine {
  constructor(private readonly catalog: Catalog) {}

  async execute(session: SessionState, rawSql: string): Promise<StatementResult> {
    const sql = rawSql.trim().replace(/;\s*$/, '');
    try {
      return await this.dispatch(session, sql);
    } catch (err) {
      throw toFault(err, session);
    }
  }

  private async dispatch(s: SessionState, sql: string): Promise<StatementResult> {
    let m: RegExpMatchArray | null;
    if ((m = sql.match(/^ALTER\s+SESSION\s+SET\s+STATEMENT_TIMEOUT_IN_SECONDS\s*=\s*(\d+)$/i))) {
      s.statementTimeoutSeconds = Number(m[1]);
      await s.pg.query(`SET statement_timeout = ${Number(m[1]) * 1000}`);
      return status('Statement executed successfully.');
    }
    if (/^SELECT\s+CURRENT_WAREHOUSE\(\)$/i.test(sql)) {
      const wh = s.warehouse && this.catalog.warehouses.has(s.warehouse) ? s.warehouse : null;
      return { rowtype: [textCol('CURRENT_WAREHOUSE()')], rowset: [[wh]] };
    }
    if ((m = sql.match(new RegExp(`^DESCRIBE\\s+SCHEMA\\s+${NAME}\\.${NAME}$`, 'i')))) {
      this.pgSchema(unq(m[1]), unq(m[2]));
      return { rowtype: [textCol('name'), textCol('kind')], rowset: [] };
    }
    if ((m = sql.match(new RegExp(`^PUT\\s+'file://([^']+)'\\s+@(${STAGE_REF})(.*)$`, 'is')))) return this.put(s, m[1], m[2], m[3]);
    if ((m = sql.match(new RegExp(`^COPY\\s+INTO\\s+(${REF3})\\s+FROM\\s+@(${STAGE_REF})\\s+(.*)$`, 'is')))) return this.copy(s, m[1], m[2], m[3]);
    if ((m = sql.match(new RegExp(`^REMOVE\\s+@(${STAGE_REF})$`, 'i')))) return this.remove(m[1]);
    if ((m = sql.match(new RegExp(`^CREATE\\s+OR\\s+REPLACE\\s+(?:TRANSIENT\\s+)?TABLE\\s+(${REF3})\\s*\\((.*)\\)$`, 'is')))) {
      const table = this.table(m[1]);
      fs.rmSync(this.tableStageDir(table), { recursive: true, force: true });
      await s.pg.query(`DROP TABLE IF EXISTS ${table.pg}`);
      await s.pg.query(`CREATE TABLE ${table.pg} (${translateTypes(m[2])})`);
      return status(`Table ${table.name} successfully created.`);
    }
    if ((m = sql.match(new RegExp(`^CREATE\\s+TABLE\\s+IF\\s+NOT\\s+EXISTS\\s+(${REF3})\\s*\\((.*)\\)$`, 'is')))) {
      const table = this.table(m[1]);
      try {
        await s.pg.query(`CREATE TABLE IF NOT EXISTS ${table.pg} (${translateTypes(m[2])})`);
      } catch (err) {
        // Snowflake's IF NOT EXISTS holds under concurrent creators; Postgres's can lose the catalog race.
        if (!lostCreateRace(err)) throw err;
      }
      return status(`${table.name} already exists, statement succeeded.`);
    }
    if ((m = sql.match(new RegExp(`^DESCRIBE\\s+TABLE\\s+(${REF3})$`, 'i')))) return this.describeTable(s, m[1]);
    if ((m = sql.match(new RegExp(`^ALTER\\s+TABLE\\s+(${REF3})\\s+ADD\\s+COLUMN\\s+(IF\\s+NOT\\s+EXISTS\\s+)?(${NAME_NC})\\s+(.+)$`, 'is')))) {
      const table = this.table(m[1]);
      await this.requireTable(s, table);
      await s.pg.query(`ALTER TABLE ${table.pg} ADD COLUMN ${m[2] ? 'IF NOT EXISTS ' : ''}${m[3]} ${translateTypes(m[4])}`);
      return status('Statement executed successfully.');
    }
    if ((m = sql.match(new RegExp(`^ALTER\\s+TABLE\\s+(${REF3})\\s+ALTER\\s+COLUMN\\s+(${NAME_NC})\\s+DROP\\s+NOT\\s+NULL$`, 'is')))) {
      const table = this.table(m[1]);
      await this.requireTable(s, table);
      await s.pg.query(`ALTER TABLE ${table.pg} ALTER COLUMN ${m[2]} DROP NOT NULL`);
      return status('Statement executed successfully.');
    }
    if ((m = sql.match(new RegExp(`^DROP\\s+TABLE\\s+IF\\s+EXISTS\\s+(${REF3})$`, 'i')))) {
      const table = this.table(m[1]);
      await s.pg.query(`DROP TABLE IF EXISTS ${table.pg}`);
      fs.rmSync(this.tableStageDir(table), { recursive: true, force: true });
      return status(`${table.name} successfully dropped.`);
    }
    if (/^MERGE\b/i.test(sql)) {
      this.requireWarehouse(s);
      const translated = this.translateNames(sql);
      const target = /^MERGE\s+INTO\s+("(?:[^"]|"")+"\."(?:[^"]|"")+")/i.exec(translated)?.[1];
      // Snowflake's MERGE locks its target table, so concurrent MERGEs into one table run one after another (and the
      // later one sees the earlier one's rows). Postgres's MERGE does not: without this lock two concurrent merges of
      // the same new key would both insert it.
      await s.pg.query('BEGIN');
      try {
        if (target) await s.pg.query(`LOCK TABLE ${target} IN SHARE ROW EXCLUSIVE MODE`);
        const result = await s.pg.query(translated);
        await s.pg.query('COMMIT');
        return toResult(result);
      } catch (err) {
        await s.pg.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    if (/^SELECT\b/i.test(sql)) {
      if (/\bFROM\b/i.test(sql)) this.requireWarehouse(s);
      return toResult(await s.pg.query(this.translateNames(sql)));
    }
    throw faults.unsupported(sql);
  }

  private requireWarehouse(s: SessionState): void {
    const state = s.warehouse ? this.catalog.warehouses.get(s.warehouse) : undefined;
    if (!state) throw faults.noWarehouse();
    if (state === 'SUSPENDED') throw faults.warehouseSuspended(s.warehouse!);
  }

  private pgSchema(db: string, schema: string): string {
    const schemas = this.catalog.databases.get(db);
    if (!schemas) throw faults.doesNotExist('Database', db);
    if (!schemas.has(schema)) throw faults.doesNotExist('Schema', `${db}.${schema}`);
    return pgSchemaName(db, schema);
  }

  private translateNames(sql: string): string {
    return sql.replace(NAME3, (_all, db: string, schema: string, table: string) => {
      return `${quote(this.pgSchema(unq(db), unq(schema)))}.${quote(checkPgName(unq(table)))}`;
    });
  }

  private table(ref: string): { name: string; pg: string; schema: string; table: string } {
    const m = ref.match(new RegExp(`^${NAME}\\.${NAME}\\.${NAME}$`));
    if (!m) throw faults.unsupported(`table reference ${ref} (the fake needs "DB"."SCHEMA"."TABLE")`);
    const schema = this.pgSchema(unq(m[1]), unq(m[2]));
    const table = checkPgName(unq(m[3]));
    return { name: table, schema, table, pg: `${quote(schema)}.${quote(table)}` };
  }

  private async tableColumns(s: SessionState, table: ReturnType<Engine['table']>) {
    const { rows } = await s.pg.query(
      `SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [table.schema, table.table],
    );
    return rows as { column_name: string; data_type: string; numeric_precision: number | null; numeric_scale: number | null; is_nullable: string }[];
  }

  private async requireTable(s: SessionState, table: ReturnType<Engine['table']>): Promise<void> {
    if ((await this.tableColumns(s, table)).length === 0) throw faults.doesNotExist('Table', table.name);
  }

  /** DESCRIBE TABLE: Snowflake's first columns (name, type, kind, null?, default), types spelled as Snowflake does. */
  private async describeTable(s: SessionState, ref: string): Promise<StatementResult> {
    const table = this.table(ref);
    const cols = await this.tableColumns(s, table);
    if (cols.length === 0) throw faults.doesNotExist('Table', table.name);
    const typeOf = (c: (typeof cols)[number]) => {
      switch (c.data_type) {
        case 'text': return 'VARCHAR(16777216)';
        case 'numeric': return `NUMBER(${c.numeric_precision ?? 38},${c.numeric_scale ?? 0})`;
        case 'bigint': return 'NUMBER(38,0)';
        case 'double precision': return 'FLOAT';
        case 'boolean': return 'BOOLEAN';
        case 'timestamp with time zone': return 'TIMESTAMP_TZ(9)';
        case 'timestamp without time zone': return 'TIMESTAMP_NTZ(9)';
        case 'json': return 'VARIANT';
        default: return c.data_type.toUpperCase();
      }
    };
    return {
      rowtype: ['name', 'type', 'kind', 'null?', 'default'].map(textCol),
      rowset: cols.map((c) => [c.column_name, typeOf(c), 'COLUMN', c.is_nullable === 'YES' ? 'Y' : 'N', null]),
    };
  }

  private tableStageDir(t: { schema: string; table: string }): string {
    return path.join(this.catalog.stageRoot, t.schema, encodeURIComponent(t.table));
  }

  /** `@"DB"."S".%"TABLE"/some/path/` -> the table exists check, and the stage directory for that path. */
  private async stage(s: SessionState | undefined, ref: string): Promise<{ dir: string; table: ReturnType<Engine['table']> }> {
    const m = ref.match(new RegExp(`^(${NAME}\\.${NAME})\\.%(${NAME})(/.*)?$`));
    if (!m) throw faults.unsupported(`stage reference @${ref} (the fake supports table stages only)`);
    const table = this.table(`${m[1]}.${m[4]}`);
    if (s) {
      const r = await s.pg.query('SELECT to_regclass($1) AS t', [table.pg]);
      if (!r.rows[0].t) throw faults.doesNotExist('Table', table.name);
    }
    const parts = (m[6] ?? '').split('/').filter(Boolean);
    if (parts.some((p) => p === '..' || p === '.')) throw faults.unsupported(`stage path ${m[6]}`);
    return { dir: path.join(this.tableStageDir(table), ...parts.map(encodeURIComponent)), table };
  }

  private async put(s: SessionState, localPath: string, stageRef: string, options: string): Promise<StatementResult> {
    const { dir } = await this.stage(s, stageRef);
    const opt = (name: string) => options.match(new RegExp(`${name}\\s*=\\s*(\\w+)`, 'i'))?.[1];
    return {
      rowtype: [],
      rowset: [],
      upload: {
        srcLocation: localPath,
        stageDir: dir,
        autoCompress: (opt('AUTO_COMPRESS') ?? 'TRUE').toUpperCase() === 'TRUE',
        sourceCompression: (opt('SOURCE_COMPRESSION') ?? 'auto_detect').toLowerCase(),
        overwrite: (opt('OVERWRITE') ?? 'FALSE').toUpperCase() === 'TRUE',
      },
    };
  }

  private async remove(stageRef: string): Promise<StatementResult> {
    const { dir } = await this.stage(undefined, stageRef);
    const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    fs.rmSync(dir, { recursive: true, force: true });
    return { rowtype: [textCol('name'), textCol('result')], rowset: files.map((f) => [f, 'removed']) };
  }

  /**
   * COPY INTO <table> FROM @<table stage>/<path> FILE_FORMAT = (TYPE = JSON ...) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE.
   * Atomic like ON_ERROR = ABORT_STATEMENT: any bad line rolls back the whole statement.
   */
  private async copy(s: SessionState, target: string, stageRef: string, options: string): Promise<StatementResult> {
    this.requireWarehouse(s);
    if (!/TYPE\s*=\s*'?JSON'?/i.test(options) || !/MATCH_BY_COLUMN_NAME\s*=\s*'?CASE_INSENSITIVE'?/i.test(options)) {
      throw faults.unsupported(`COPY options ${options} (the fake supports JSON files with MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE)`);
    }
    const table = this.table(target);
    const { dir } = await this.stage(s, stageRef);
    const cols = await s.pg.query(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [table.schema, table.table],
    );
    if (cols.rows.length === 0) throw faults.doesNotExist('Table', table.name);
    const columns: { name: string; upper: string }[] = cols.rows.map((r) => ({ name: r.column_name, upper: r.column_name.toUpperCase() }));
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
    const rowset: (string | null)[][] = [];
    await s.pg.query('BEGIN');
    try {
      for (const file of files) {
        const loaded = await this.loadFile(s, path.join(dir, file), table.pg, columns);
        rowset.push([decodeURIComponent(file), 'LOADED', String(loaded), String(loaded), '0', null]);
      }
      await s.pg.query('COMMIT');
    } catch (err) {
      await s.pg.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    return {
      rowtype: [textCol('file'), textCol('status'), fixedCol('rows_parsed'), fixedCol('rows_loaded'), fixedCol('errors_seen'), textCol('first_error')],
      rowset,
    };
  }

  private async loadFile(s: SessionState, file: string, pgTable: string, columns: { name: string; upper: string }[]): Promise<number> {
    const head = Buffer.alloc(2);
    const fd = fs.openSync(file, 'r');
    fs.readSync(fd, head, 0, 2, 0);
    fs.closeSync(fd);
    let input: NodeJS.ReadableStream = fs.createReadStream(file);
    if (head[0] === 0x1f && head[1] === 0x8b) input = input.pipe(zlib.createGunzip());
    const lines = ndjsonRecords(input);
    let batch: unknown[][] = [];
    let count = 0;
    let lineNo = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const params: unknown[] = [];
      const tuples = batch.map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(',')})`);
      await s.pg.query(`INSERT INTO ${pgTable} (${columns.map((c) => quote(c.name)).join(',')}) VALUES ${tuples.join(',')}`, params);
      count += batch.length;
      batch = [];
    };
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch (err) {
        throw new SnowflakeFault('100069', `Error parsing JSON: ${(err as Error).message}\n  File '${path.basename(file)}', line ${lineNo}`, '22000');
      }
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
        throw new SnowflakeFault('100183', `Can't parse '${line.slice(0, 50)}' as an object (MATCH_BY_COLUMN_NAME needs objects)`, '22000');
      }
      const byUpper = new Map(Object.entries(doc).map(([k, v]) => [k.toUpperCase(), v]));
      batch.push(columns.map((c) => toParam(byUpper.get(c.upper))));
      if (batch.length >= 200) await flush();
    }
    await flush();
    return count;
  }

  /** Test inspection: every row of a table as raw strings (text decoded, timestamps ISO with microseconds). */
  async readTable(pg: Client, db: string, schema: string, table: string): Promise<Record<string, string | null>[]> {
    const t = `${quote(this.pgSchema(db, schema))}.${quote(table)}`;
    const r = await pg.query(`SELECT * FROM ${t}`);
    return r.rows.map((row) => {
      const out: Record<string, string | null> = {};
      for (const f of r.fields) {
        const v = row[f.name] as string | null;
        out[f.name] = v === null ? null : f.dataTypeID === 25 ? decodeText(v) : f.dataTypeID === 1184 ? pgTimestampToIso(v) : v;
      }
      return out;
    });
  }

  async tableExists(pg: Client, db: string, schema: string, table: string): Promise<boolean> {
    const r = await pg.query('SELECT to_regclass($1) AS t', [`${quote(pgSchemaName(db, schema))}.${quote(table)}`]);
    return r.rows[0].t !== null;
  }
}

function toParam(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return encodeText(v);
  if (typeof v === 'object') return encodeText(JSON.stringify(v));
  return String(v);
}

function checkPgName(name: string): string {
  if (Buffer.byteLength(name) > 63) throw faults.unsupported(`identifier longer than 63 bytes: ${name}`);
  return name;
}

/** Snowflake column types -> Postgres, applied outside quoted identifiers only. */
function translateTypes(columnList: string): string {
  return columnList
    .split(/("(?:[^"]|"")*")/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part
            .replace(/\bVARIANT\b/gi, 'json')
            .replace(/\bTIMESTAMP_TZ(\(\d\))?/gi, 'timestamptz')
            .replace(/\bTIMESTAMP_NTZ(\(\d\))?/gi, 'timestamp')
            .replace(/\bNUMBER\((\d+),\s*(\d+)\)/gi, 'numeric($1,$2)')
            .replace(/\bFLOAT\b/gi, 'double precision')
            .replace(/\bVARCHAR(\(\d+\))?/gi, 'text'),
    )
    .join('');
}

function pgTimestampToIso(v: string): string {
  const m = v.match(/^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?\+00$/);
  if (!m) throw new Error(`fake Snowflake: unexpected timestamp ${v} (session TimeZone must be UTC)`);
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}Z`;
}

const textCol = (name: string): RowType => ({ name, type: 'text', scale: null, precision: null, length: 16777216, byteLength: 16777216, nullable: true });
const fixedCol = (name: string, scale = 0): RowType => ({ name, type: 'fixed', scale, precision: 38, length: null, byteLength: null, nullable: true });
const status = (msg: string): StatementResult => ({ rowtype: [textCol('status')], rowset: [[msg]] });

/** Postgres result (all values as raw strings) -> Snowflake JSON result set. */
function toResult(r: QueryResult): StatementResult {
  const rowtype: RowType[] = r.fields.map((f) => {
    switch (f.dataTypeID) {
      case 20: case 21: case 23: return fixedCol(f.name);
      case 1700: return fixedCol(f.name, f.dataTypeModifier > 0 ? (f.dataTypeModifier - 4) & 0xffff : 0);
      case 700: case 701: return { ...fixedCol(f.name), type: 'real', precision: null, scale: null };
      case 16: return { ...textCol(f.name), type: 'boolean' };
      case 114: case 3802: return { ...textCol(f.name), type: 'variant' };
      default: return textCol(f.name);
    }
  });
  if (r.command === 'MERGE' && r.fields.length === 0) {
    return { rowtype: [fixedCol('number of rows affected')], rowset: [[String(r.rowCount ?? 0)]] };
  }
  const rowset = (r.rows ?? []).map((row) =>
    r.fields.map((f, i) => {
      const v = row[f.name] as string | null;
      if (v === null) return null;
      if (rowtype[i].type === 'boolean') return v === 't' ? '1' : '0';
      if (f.dataTypeID === 25) return decodeText(v);
      if (f.dataTypeID === 1184) return pgTimestampToIso(v);
      return v;
    }),
  );
  return { rowtype, rowset };
}

function toFault(err: unknown, s: SessionState): SnowflakeFault {
  if (err instanceof SnowflakeFault) return err;
  const pgErr = err as { code?: string; message?: string };
  const msg = pgErr.message ?? String(err);
  switch (pgErr.code) {
    case '57014': return faults.timeout(s.statementTimeoutSeconds);
    case '42P01': return faults.doesNotExist('Object', msg.match(/relation "([^"]+)"/)?.[1] ?? msg);
    case '42703': return faults.invalidIdentifier(msg);
    case '23502': return new SnowflakeFault('100072', `NULL result in a non-nullable column (${msg})`, '22000');
    default: return new SnowflakeFault('002000', `SQL execution error: ${msg}`, pgErr.code ?? 'XX000');
  }
}

/**
 * Records of an NDJSON file split on "\n" only, as Snowflake's default RECORD_DELIMITER does. (node:readline also
 * breaks lines at U+2028/U+2029 on newer Node versions, which are legal unescaped inside JSON strings.)
 */
async function* ndjsonRecords(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of input as AsyncIterable<Buffer>) {
    pending += decoder.write(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      yield pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
    }
  }
  pending += decoder.end();
  if (pending) yield pending.replace(/\r$/, '');
}
