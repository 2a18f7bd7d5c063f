/**
 * The custom query model: an export defined by a team's own ClickHouse SELECT.
 *
 * Safety model (one ClickHouse serves every team). Nothing here parses SQL itself; ClickHouse's parser decides
 * what the query is, and Outport only reads the parser's output:
 * 1. The team's text is only ever placed inside `SELECT * FROM (\n<text>\n)`. It is first handed to
 *    `formatQuerySingleLine()` AS A QUERY PARAMETER (a value, never executed), which refuses anything but one
 *    statement: so nothing the text holds (`; DROP ...`) can run, even on an engine that runs multi-statements.
 * 2. `EXPLAIN AST` of that wrapper, checked node by node: the outer query must be exactly `SELECT * FROM
 *    (<one subquery>)` (a text that closes the parenthesis early changes that shape and is refused); every table read
 *    is on the operator's allow-list (the source tables; a CTE name only when no real table has that name); no table
 *    function (`url`, `file`, `s3`, `remote`, `view`, `merge`, `cluster`, ...); no `x IN table`; no `SETTINGS`
 *    (they could override the scope); no query parameters but the two placeholders; no function on DENIED_FUNCTIONS
 *    (dictionaries, `joinGet`, files, server and user information). A `FORMAT` or `INTO OUTFILE` inside the
 *    parentheses, INSERT and other statements are syntax errors there.
 * 3. Every query runs with `additional_table_filters` scoping each allowed table to `team_id = <team>`: ClickHouse
 *    adds the condition wherever the table is read (aliases, subqueries, JOINs of the same table, CTEs, IN), so a
 *    WHERE naming another team's id just returns nothing. Plus `max_execution_time`, `max_memory_usage` and
 *    `max_result_rows`/`max_rows_to_read`-style bounds from the source configuration.
 * `readonly` is not set: the embedded ClickHouse streams a SELECT as `INSERT INTO FUNCTION file(<pipe>)`, which
 * readonly refuses, and chdb does not enforce it anyway; step 2 refuses every non-SELECT instead. Against a real
 * server, also give Outport a read-only ClickHouse user (CLICKHOUSE_USER).
 *
 * Placeholders `{data_interval_start}` and `{data_interval_end}` become query parameters of type
 * DateTime64(6, 'UTC'); both must be used (an unbounded query would re-export everything on every run).
 */
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { Column, ColumnType, ModelSchema } from '../sdk/models';
import type { SourceConfig } from './config';
import { isSourceError } from '../sdk/classify';
import { reachingClickHouse } from './source-error';

export type IncrementalMode = 'append' | 'merge';

export interface CustomQuery {
  /** A ClickHouse SELECT using `{data_interval_start}` and `{data_interval_end}`. */
  query: string;
  /** Output columns identifying a row at the destination. */
  primaryKey: string[];
  /** Merge mode: output columns compared, in order, to decide whether a row replaces the stored one. */
  versionKey?: string[];
  mode: IncrementalMode;
}

/** What is wrong with a custom query, and which input field holds it. */
export class CustomQueryError extends Error {
  constructor(
    readonly field: 'query' | 'primaryKey' | 'versionKey' | 'mode',
    message: string,
  ) {
    super(message);
    this.name = 'CustomQueryError';
  }
}

export const PLACEHOLDERS = { start: 'data_interval_start', end: 'data_interval_end' } as const;
const PLACEHOLDER_TYPE = "DateTime64(6, 'UTC')";
/** Placeholder values used only while checking a query, and how they read in `EXPLAIN AST` (seconds since epoch). */
const SENTINEL = {
  start: { value: '1999-12-31 23:59:58.123456', literal: '946684798.123456' },
  end: { value: '1999-12-31 23:59:59.654321', literal: '946684799.654321' },
};
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_QUERY_LENGTH = 100_000;

/**
 * Functions that reach outside the team's rows: dictionaries (loaded from anything), Join tables, the server's
 * files, settings, users, hosts. Compared in lower case; every name starting with `dict` or `__` is denied too.
 */
const DENIED_FUNCTIONS = new Set(
  [
    'joinGet', 'joinGetOrNull', 'file', 'url', 's3', 'hdfs', 'remote', 'remoteSecure', 'cluster', 'clusterAllReplicas',
    'getSetting', 'getSettingOrDefault', 'getServerSetting', 'getMergeTreeSetting', 'getMacro', 'getClientHTTPHeader',
    'currentUser', 'user', 'current_user', 'currentDatabase', 'database', 'current_database', 'currentSchemas',
    'current_schemas', 'currentProfiles', 'enabledProfiles', 'defaultProfiles', 'currentRoles', 'enabledRoles',
    'defaultRoles', 'currentQueryID', 'queryID', 'query_id', 'initialQueryID', 'initial_query_id',
    'initialQueryStartTime', 'hostName', 'hostname', 'fqdn', 'displayName', 'serverUUID', 'uptime', 'version',
    'buildId', 'tcpPort', 'getServerPort', 'shardNum', 'shardCount', 'filesystemAvailable', 'filesystemCapacity',
    'filesystemUnreserved', 'getOSKernelVersion', 'zookeeperSessionUptime', 'hasColumnInTable', 'globalVariable',
    'catboostEvaluate', 'modelEvaluate', 'sleep', 'sleepEachRow', 'connectionId', 'connection_id',
    'transactionID', 'transactionLatestSnapshot', 'transactionOldestSnapshot', 'getMaxTableNameLengthForDatabase',
    'blockSerializedSize', 'getSizeOfEnumType', 'tid', 'logTrace', 'revision', 'timezoneOf',
  ].map((f) => f.toLowerCase()),
);
const IN_FUNCTIONS = new Set(['in', 'notin', 'globalin', 'globalnotin', 'nullin', 'notnullin', 'globalnullin', 'globalnotnullin']);

/** The tables a custom query may read, `database.table`, each scoped by its `team_id` column. */
export function allowedTables(config: SourceConfig): string[] {
  return Object.values(config.tables).map((t) => `${config.database}.${t}`);
}

/** The only text ClickHouse ever sees of a team's query: inside parentheses, on lines of its own. */
export function wrappedQuery(query: string, outer = 'SELECT * FROM'): string {
  return `${outer} (\n${withPlaceholderParameters(query)}\n)`;
}

function withPlaceholderParameters(query: string): string {
  return query
    .replaceAll(`{${PLACEHOLDERS.start}}`, `{${PLACEHOLDERS.start}:${PLACEHOLDER_TYPE}}`)
    .replaceAll(`{${PLACEHOLDERS.end}}`, `{${PLACEHOLDERS.end}:${PLACEHOLDER_TYPE}}`);
}

/** Settings every custom query runs with: the team scope and the bounds. */
export function scopedSettings(config: SourceConfig, teamId: number): ClickHouseSettings {
  if (!Number.isSafeInteger(teamId)) throw new Error(`teamId must be an integer (got ${teamId})`);
  const filters = allowedTables(config).map((t) => `'${t}': 'team_id = ${teamId}'`);
  return {
    additional_table_filters: `{${filters.join(', ')}}` as never,
    max_execution_time: config.maxExecutionTime || 3600,
    ...(config.maxMemoryUsage ? { max_memory_usage: String(config.maxMemoryUsage) } : {}),
    // A team cannot make one query scan or hold more than this; generous for a run, bounded for the server.
    max_subquery_depth: '20',
    max_ast_elements: '20000',
    output_format_json_quote_64bit_integers: 0,
  };
}

/** Placeholder values for a run's interval (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC). */
export function placeholderParams(start: string, end: string): Record<string, string> {
  return { [PLACEHOLDERS.start]: start, [PLACEHOLDERS.end]: end };
}

interface AstNode {
  depth: number;
  kind: string;
  /** The rest of the line after the node kind: a name, an alias, `(children n)`. */
  detail: string;
  children: AstNode[];
}

/** Parses `EXPLAIN AST` output (one node per row, indented by one space per level) into a tree. */
function astTree(lines: string[]): AstNode {
  const root: AstNode = { depth: -1, kind: '(root)', detail: '', children: [] };
  const stack = [root];
  for (const line of lines) {
    const depth = line.length - line.trimStart().length;
    const text = line.trim();
    const space = text.indexOf(' ');
    const node: AstNode = { depth, kind: space < 0 ? text : text.slice(0, space), detail: space < 0 ? '' : text.slice(space + 1), children: [] };
    while (stack[stack.length - 1].depth >= depth) stack.pop();
    stack[stack.length - 1].children.push(node);
    stack.push(node);
  }
  return root;
}

/** The name part of a node's detail: `d.events (alias e) (children 1)` -> `d.events`. */
const nameOf = (n: AstNode) => n.detail.replace(/\s*\((?:alias [^)]*|children \d+)\)/g, '').trim();

function* walk(n: AstNode): Generator<AstNode> {
  yield n;
  for (const c of n.children) yield* walk(c);
}

/** A failure to reach ClickHouse is a SourceError (never the query's fault): callers rethrow it as is. */
async function rows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown>, settings: ClickHouseSettings = {}): Promise<T[]> {
  return reachingClickHouse(async () => {
    const rs = await client.query({ query, query_params: params, format: 'JSONEachRow', clickhouse_settings: settings });
    return rs.json<T>();
  });
}

/** ClickHouse's own error text, without the client's wrapping or stack. */
function clickHouseMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .replace(/^Code: \d+\. DB::Exception: /, '')
    .replace(/\s*\(version [^)]*\)\s*$/, '')
    // Our own wrapping (formatQuerySingleLine, SELECT * FROM) would only confuse the reader.
    .replace(/:? In scope [\s\S]*$/, '')
    .trim();
}

export interface InspectOptions {
  client: ClickHouseClient;
  config: SourceConfig;
  teamId: number;
}

/**
 * Validates a custom query (syntax, safety, placeholders, keys, mode) and returns the schema of its output, with
 * columns and types from ClickHouse (`DESCRIBE`). Throws CustomQueryError naming the field and the problem.
 */
export async function inspectCustomQuery(cq: CustomQuery, o: InspectOptions): Promise<ModelSchema> {
  if (cq.mode !== 'append' && cq.mode !== 'merge') throw new CustomQueryError('mode', `mode must be append or merge (got ${JSON.stringify(cq.mode)})`);
  if (typeof cq.query !== 'string' || !cq.query.trim()) throw new CustomQueryError('query', 'the query is empty: write a ClickHouse SELECT');
  if (cq.query.length > MAX_QUERY_LENGTH) throw new CustomQueryError('query', `the query is longer than ${MAX_QUERY_LENGTH} characters`);
  for (const p of Object.values(PLACEHOLDERS)) {
    if (!cq.query.includes(`{${p}}`)) {
      throw new CustomQueryError('query', `the query must use {${p}}: bound every run to its interval, e.g. WHERE inserted_at >= {data_interval_start} AND inserted_at < {data_interval_end}`);
    }
  }
  const wrapped = wrappedQuery(cq.query);
  // ClickHouse substitutes parameters before EXPLAIN shows the tree: these values mark where the placeholders went.
  const params = placeholderParams(SENTINEL.start.value, SENTINEL.end.value);
  // One statement, or nothing of it runs: the text travels as a parameter value here.
  try {
    await rows(o.client, 'SELECT formatQuerySingleLine({q:String}) AS q', { q: wrapped });
  } catch (err) {
    if (isSourceError(err)) throw err;
    throw new CustomQueryError('query', `the query does not parse as one ClickHouse SELECT: ${clickHouseMessage(err)}`);
  }
  let ast: AstNode;
  try {
    ast = astTree((await rows<{ explain: string }>(o.client, `EXPLAIN AST ${wrapped}`, params)).map((r) => r.explain));
  } catch (err) {
    if (isSourceError(err)) throw err;
    const unknownParameter = /Substitution `([^`]*)` is not set/.exec(clickHouseMessage(err));
    if (unknownParameter) throw new CustomQueryError('query', `query parameter {${unknownParameter[1]}} is not allowed: use only {data_interval_start} and {data_interval_end}`);
    throw new CustomQueryError('query', `the query does not parse: ${clickHouseMessage(err)}`);
  }
  await checkAst(ast, o, wrapped, params);

  let described: { name: string; type: string }[];
  try {
    described = await rows(o.client, `DESCRIBE (${wrapped})`, params, scopedSettings(o.config, o.teamId));
  } catch (err) {
    if (isSourceError(err)) throw err;
    throw new CustomQueryError('query', `ClickHouse cannot run the query: ${clickHouseMessage(err)}`);
  }
  const schema = customSchema(cq, described);
  inspected.add(schema);
  return schema;
}

/** Schemas returned by inspectCustomQuery: only a query that passed the checks of this process may run. */
const inspected = new WeakSet<object>();

/** `schema` as a custom query's schema, refusing one that inspectCustomQuery did not produce. */
export function customQuerySchema(schema: ModelSchema | undefined): CustomQuerySchema {
  if (!schema || !inspected.has(schema)) throw new Error('a custom query runs only with the schema ClickHouseSource.exportSchema() returned for it (which checks the query first)');
  return schema as CustomQuerySchema;
}

async function checkAst(ast: AstNode, o: InspectOptions, wrapped: string, params: Record<string, unknown>): Promise<void> {
  const refuse = (message: string): never => {
    throw new CustomQueryError('query', message);
  };
  // SELECT * FROM (<subquery>), nothing else: anything the text added beside the subquery shows up here.
  // (The client appends FORMAT JSONEachRow to the EXPLAIN: that one Identifier is ours.)
  const outer = ast.children[0];
  const select = outer?.children[0]?.children[0];
  const tables = select?.children[1];
  const formatOk = outer?.children.length === 1 || (outer?.children.length === 2 && outer.children[1].kind === 'Identifier' && outer.children[1].detail === 'JSONEachRow');
  const shapeOk =
    ast.children.length === 1 && outer.kind === 'SelectWithUnionQuery' && formatOk &&
    outer.children[0].children.length === 1 && select?.kind === 'SelectQuery' && select.children.length === 2 &&
    tables?.kind === 'TablesInSelectQuery' && tables.children.length === 1 &&
    tables.children[0].children[0]?.children[0]?.kind === 'Subquery';
  if (!shapeOk) refuse('the query must be one SELECT, with balanced parentheses (it closes a parenthesis it did not open)');

  const allowed = new Set(allowedTables(o.config));
  const usedParams = new Set<string>();
  const unqualified: string[] = [];
  for (const n of walk(ast)) {
    if (n.kind === 'Set') refuse('SETTINGS are not allowed in a custom query: the source sets them');
    if (n.kind === 'Literal') {
      if (n.detail.includes(SENTINEL.start.literal)) usedParams.add(PLACEHOLDERS.start);
      if (n.detail.includes(SENTINEL.end.literal)) usedParams.add(PLACEHOLDERS.end);
    }
    if (n.kind === 'TableExpression') {
      const source = n.children[0];
      if (source?.kind === 'Function') refuse(`table function ${nameOf(source)}() is not allowed: read the tables ${[...allowed].join(', ')}`);
    }
    if (n.kind === 'TableIdentifier') {
      const name = nameOf(n);
      if (allowed.has(name)) continue;
      if (IDENTIFIER.test(name)) unqualified.push(name);
      else refuse(`table ${name} is not allowed: a custom query may read only ${[...allowed].join(', ')}`);
    }
    if (n.kind === 'Function') {
      const name = nameOf(n);
      const lower = name.toLowerCase();
      if (lower.startsWith('dict')) refuse(`dictionary function ${name}() is not allowed in a custom query`);
      if (DENIED_FUNCTIONS.has(lower) || lower.startsWith('__')) refuse(`function ${name}() is not allowed in a custom query: it reads outside the team's rows`);
      if (IN_FUNCTIONS.has(lower)) {
        const right = n.children[0]?.children[1];
        if (right?.kind === 'Identifier') refuse(`${name === 'in' ? 'IN' : name} ${nameOf(right)} is not allowed: write IN (SELECT ... FROM <table>)`);
      }
    }
  }
  for (const p of Object.values(PLACEHOLDERS)) {
    // Inside a comment or a string literal a placeholder bounds nothing.
    if (!usedParams.has(p)) refuse(`the query must use {${p}} in its SQL (not in a comment or a string)`);
  }
  if (unqualified.length) await checkUnqualifiedTables(unqualified, o, wrapped, params, allowed);
}

/**
 * A bare name is a CTE of the query or a table of the current database; only CTE names are accepted, and only when
 * no real table has that name (a CTE out of scope would silently read the table instead).
 */
async function checkUnqualifiedTables(names: string[], o: InspectOptions, wrapped: string, params: Record<string, unknown>, allowed: Set<string>): Promise<void> {
  const tree = await rows<{ explain: string }>(o.client, `EXPLAIN QUERY TREE run_passes = 0 ${wrapped}`, params);
  const ctes = new Set(tree.map((r) => /\bcte_name: ([A-Za-z_][A-Za-z0-9_]*)/.exec(r.explain)?.[1]).filter((n): n is string => !!n));
  for (const name of new Set(names)) {
    const hint = `a custom query may read only ${[...allowed].join(', ')} (write the database name)`;
    if (!ctes.has(name)) throw new CustomQueryError('query', `table ${name} is not allowed: ${hint}`);
    const [existing] = await rows<{ n: number }>(o.client, 'SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {name:String}', { name });
    if (Number(existing?.n ?? 0) > 0) throw new CustomQueryError('query', `the WITH name ${name} is also a table's name: rename it`);
  }
}

/** A ClickHouse type as an SDK column type, or undefined when Outport cannot export it. */
export function columnTypeOf(clickHouseType: string): { type: ColumnType; nullable: boolean; base: string } | undefined {
  let t = clickHouseType.trim();
  let nullable = false;
  for (;;) {
    const m = /^(LowCardinality|Nullable)\((.*)\)$/.exec(t);
    if (!m) break;
    if (m[1] === 'Nullable') nullable = true;
    t = m[2];
  }
  const type: ColumnType | undefined =
    /^U?Int(8|16|32|64)$/.test(t) ? 'int'
    : /^U?Int(128|256)$/.test(t) ? 'string'
    : /^(Float|BFloat16|Decimal)/.test(t) ? 'float'
    : t === 'Bool' ? 'bool'
    : /^(Date|Date32|DateTime|DateTime64)(\(|$)/.test(t) ? 'timestamp'
    : /^(String|FixedString|UUID|Enum8|Enum16|IPv4|IPv6)(\(|$)/.test(t) ? 'string'
    : /^(Array|Map|Tuple|JSON|Object|Dynamic|Variant|Nested)(\(|$)/.test(t) ? 'json'
    : undefined;
  return type && { type, nullable, base: t };
}

/** The SQL turning an output column into the SDK row form of its type (see models.ts). */
export function exportedValueSql(name: string, clickHouseType: string): string {
  const mapped = columnTypeOf(clickHouseType);
  if (!mapped) throw new Error(`column ${name} has type ${clickHouseType}, which cannot be exported`);
  switch (mapped.type) {
    case 'timestamp':
      return `concat(replaceOne(toString(toDateTime64(${name}, 6, 'UTC')), ' ', 'T'), 'Z')`;
    case 'float':
      return `toFloat64(${name})`;
    case 'json':
      return `toJSONString(${name})`;
    case 'string':
      return mapped.base === 'String' ? name : `toString(${name})`;
    default:
      return name;
  }
}

function customSchema(cq: CustomQuery, described: { name: string; type: string }[]): ModelSchema & { clickHouseTypes: Record<string, string> } {
  const columns: Column[] = [];
  const clickHouseTypes: Record<string, string> = {};
  for (const d of described) {
    if (!IDENTIFIER.test(d.name)) throw new CustomQueryError('query', `output column ${JSON.stringify(d.name)} needs a plain name: add AS <name> (letters, digits, underscore)`);
    const mapped = columnTypeOf(d.type);
    if (!mapped) throw new CustomQueryError('query', `output column ${d.name} has type ${d.type}, which cannot be exported: cast it (e.g. toString(...))`);
    if (columns.some((c) => c.name === d.name)) throw new CustomQueryError('query', `output column ${d.name} appears twice: give each column its own name`);
    columns.push({ name: d.name, type: mapped.type, nullable: mapped.nullable });
    clickHouseTypes[d.name] = d.type;
  }
  const names = columns.map((c) => c.name).join(', ');
  const keyColumns = (field: 'primaryKey' | 'versionKey', keys: string[] | undefined) => {
    for (const k of keys ?? []) {
      const c = columns.find((x) => x.name === k);
      if (!c) throw new CustomQueryError(field, `${field} column ${k} is not in the query's output (its columns: ${names})`);
      if (c.nullable) throw new CustomQueryError(field, `${field} column ${k} is Nullable: wrap it in coalesce() or assumeNotNull() in the query`);
    }
    if (new Set(keys).size !== (keys ?? []).length) throw new CustomQueryError(field, `${field} lists a column twice`);
  };
  if (!cq.primaryKey?.length) throw new CustomQueryError('primaryKey', `primaryKey must name at least one output column (its columns: ${names})`);
  keyColumns('primaryKey', cq.primaryKey);
  keyColumns('versionKey', cq.versionKey);
  if (cq.mode === 'merge' && !cq.versionKey?.length) throw new CustomQueryError('versionKey', 'merge mode needs a versionKey: the column(s) that grow when a row changes');
  if (cq.mode === 'append' && cq.versionKey?.length) throw new CustomQueryError('versionKey', 'append mode keeps the first row of each key: leave versionKey empty, or use merge mode');
  return {
    model: cq.mode === 'merge' ? 'persons' : 'events',
    columns,
    key: [...cq.primaryKey],
    versionColumns: cq.mode === 'merge' ? [...(cq.versionKey ?? [])] : [],
    mutable: cq.mode === 'merge',
    clickHouseTypes,
  };
}

/** A custom export's schema with the ClickHouse types of its columns (needed to build its SELECT). */
export type CustomQuerySchema = ModelSchema & { clickHouseTypes: Record<string, string> };

/**
 * The SQL of one run of a custom query. `rows`: the SDK row form, one row per primary key (append: the first,
 * merge: the highest version), in key order. The caller adds the placeholder parameters and scopedSettings().
 */
export function customQuerySql(cq: CustomQuery, schema: CustomQuerySchema, shape: 'rows' | 'count' | 'estimate'): string {
  const key = schema.key.join(', ');
  if (shape === 'estimate') return `SELECT count() AS rows, rows * 300 AS bytes FROM (${wrappedQuery(cq.query, 'SELECT 1 FROM')})`;
  const latestFirst = schema.versionColumns.length ? `ORDER BY ${schema.versionColumns.map((v) => `${v} DESC`).join(', ')}` : '';
  const oneByKey = `${wrappedQuery(cq.query)} ${latestFirst} LIMIT 1 BY ${key}`;
  if (shape === 'count') return `SELECT count() AS n FROM (${oneByKey})`;
  const columns = schema.columns.map((c) => `${exportedValueSql(c.name, schema.clickHouseTypes[c.name])} AS ${c.name}`);
  return `SELECT ${columns.join(', ')} FROM (${oneByKey}) ORDER BY ${key}`;
}
