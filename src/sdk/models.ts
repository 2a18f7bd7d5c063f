/**
 * The data models Outport exports, and the exact shape of their rows.
 *
 * Glossary
 * - Model: a view of the analytics store. `events` is immutable and unique by `uuid`;
 *   `persons` and `sessions` are mutable and must be merged at the destination.
 * - Row: one record, a plain object keyed by column name. Values are JSON-safe:
 *   - `string`  columns: JS string (may contain NUL bytes, emoji, lone surrogates are never produced);
 *   - `int`     columns: JS number (safe integer);
 *   - `float`   columns: JS number;
 *   - `bool`    columns: JS boolean;
 *   - `timestamp` columns: ISO-8601 UTC string with microseconds, `2024-01-31T23:59:59.123456Z`;
 *   - `json`    columns: the JSON document as TEXT, exactly as stored in the source (parse it only if you must:
 *     keeping the text is what makes values round-trip byte for byte).
 *   Any nullable column may be `null`.
 * - Key: the columns that identify a row at the destination. Writing a row whose key already exists must not
 *   add a second row.
 * - Version columns: for mutable models, a stored row is replaced only when the incoming row's version columns,
 *   compared in the order listed (the first that differs decides, as in a tuple comparison), are greater. Equal
 *   versions keep the stored row; an older version never overwrites a newer one. `isNewerVersion` and
 *   `newerVersionSql` implement this rule; use them rather than writing it again.
 */
export type Model = 'events' | 'persons' | 'sessions';

export const MODELS: readonly Model[] = ['events', 'persons', 'sessions'];

export type ColumnType = 'string' | 'int' | 'float' | 'bool' | 'timestamp' | 'json';

export interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /**
   * Table types, as the destination's catalog names them (`character varying(200)`, `integer`), that an existing
   * table made by another tool (PostHog, for src/source/posthog-layout.ts) gives this column and that the export
   * writes into as they are: the destination refuses, and the run fails on, a value beyond their bounds. Unset: only
   * the types the destination itself accepts.
   */
  tableTypes?: readonly string[];
}

export interface ModelSchema {
  model: Model;
  columns: readonly Column[];
  /** Columns that identify a row at the destination. */
  key: readonly string[];
  /** Columns compared, in this order, to decide whether an incoming row replaces a stored one (see the glossary's
   *  "Version columns"). Empty for immutable models. */
  versionColumns: readonly string[];
  /** True when rows change after they are first exported (needs a merge, not an append). */
  mutable: boolean;
}

export type Value = string | number | boolean | null;
export type Row = Record<string, Value>;

/** A slice of one run's rows, in source order. `sizeBytes` approximates the rows' encoded size. */
export interface RecordBatch {
  rows: Row[];
  sizeBytes: number;
}

const col = (name: string, type: ColumnType, nullable = false): Column => ({ name, type, nullable });

export const EVENTS_SCHEMA: ModelSchema = {
  model: 'events',
  columns: [
    col('team_id', 'int'),
    col('uuid', 'string'),
    col('event', 'string'),
    col('distinct_id', 'string'),
    col('person_id', 'string', true),
    col('timestamp', 'timestamp'),
    col('created_at', 'timestamp'),
    col('_inserted_at', 'timestamp'),
    col('properties', 'json', true),
    col('person_properties', 'json', true),
    col('set', 'json', true),
    col('set_once', 'json', true),
    col('elements_chain', 'string', true),
  ],
  key: ['team_id', 'uuid'],
  versionColumns: [],
  mutable: false,
};

export const PERSONS_SCHEMA: ModelSchema = {
  model: 'persons',
  columns: [
    col('team_id', 'int'),
    col('distinct_id', 'string'),
    col('person_id', 'string'),
    col('properties', 'json', true),
    col('person_version', 'int'),
    col('person_distinct_id_version', 'int'),
    col('is_deleted', 'bool'),
    col('created_at', 'timestamp', true),
    col('_inserted_at', 'timestamp'),
  ],
  key: ['team_id', 'distinct_id'],
  /**
   * The distinct-id row's version first: PostHog raises it when it moves the distinct id to another person, whose
   * `person_version` may be lower than the old person's. Then the person's version (`NO_PERSON_VERSION` while
   * the person row has not arrived). Then `_inserted_at`, the later ClickHouse insertion of the two rows: PostHog
   * sometimes rewrites a row without raising its version, and a row always changes with a later insertion.
   */
  versionColumns: ['person_distinct_id_version', 'person_version', '_inserted_at'],
  mutable: true,
};

/** Persons: the `person_version` of a distinct id whose person row has not reached ClickHouse yet (PostHog's
 *  versions start at 0, so this orders below every real version). */
export const NO_PERSON_VERSION = -1;

export const SESSIONS_SCHEMA: ModelSchema = {
  model: 'sessions',
  columns: [
    col('team_id', 'int'),
    col('session_id', 'string'),
    col('distinct_id', 'string'),
    col('start_timestamp', 'timestamp'),
    col('end_timestamp', 'timestamp'),
    col('duration_seconds', 'float'),
    col('entry_url', 'string', true),
    col('exit_url', 'string', true),
    col('pageview_count', 'int'),
    col('autocapture_count', 'int'),
    col('is_bounce', 'bool'),
    col('utm_source', 'string', true),
    col('utm_medium', 'string', true),
    col('utm_campaign', 'string', true),
    col('utm_term', 'string', true),
    col('utm_content', 'string', true),
    col('session_version', 'int'),
    col('_inserted_at', 'timestamp'),
  ],
  key: ['team_id', 'session_id'],
  versionColumns: ['session_version'],
  mutable: true,
};

export const MODEL_SCHEMAS: Record<Model, ModelSchema> = {
  events: EVENTS_SCHEMA,
  persons: PERSONS_SCHEMA,
  sessions: SESSIONS_SCHEMA,
};

/**
 * True when `incoming` replaces `stored` at the destination: its version columns, compared in order, are greater
 * (see the glossary). Timestamps compare as model rows hold them, ISO-8601 UTC with microseconds.
 */
export function isNewerVersion(schema: ModelSchema, incoming: Row, stored: Row): boolean {
  for (const column of schema.versionColumns) {
    const a = incoming[column] as number | string;
    const b = stored[column] as number | string;
    if (a !== b) return a > b;
  }
  return false;
}

/**
 * The SQL condition, parenthesised, under which the incoming row replaces the stored one: the rule of
 * `isNewerVersion` spelled with `>`, `=`, AND and OR only, so every SQL dialect reads it alike. `incoming(column)`
 * and `stored(column)` render a qualified, quoted column, e.g. `(c) => 'S.' + quote(c)`. Version columns are
 * never NULL.
 */
export function newerVersionSql(schema: ModelSchema, incoming: (column: string) => string, stored: (column: string) => string): string {
  if (schema.versionColumns.length === 0) throw new Error(`the ${schema.model} model has no version columns to compare`);
  const [first, ...rest] = schema.versionColumns;
  const greater = `${incoming(first)} > ${stored(first)}`;
  if (rest.length === 0) return `(${greater})`;
  const tie = newerVersionSql({ ...schema, versionColumns: rest }, incoming, stored);
  return `(${greater} OR (${incoming(first)} = ${stored(first)} AND ${tie}))`;
}
