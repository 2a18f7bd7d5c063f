/**
 * The destination contract: what every destination plugin implements, built-in or third-party.
 *
 * A plugin is a module whose default export is `defineDestination({...})`. Outport discovers it in `plugins/<name>/`
 * or in an installed npm package whose package.json has `"outport": { "destination": "./path/to/entry.js" }`.
 *
 * Glossary
 * - Run: one export of one model over one data interval `[start, end)`. A run may be attempted several times
 *   (retries, a user's replay, an overlapping backfill); see "Exactly once per run" below.
 * - Config: the user's settings for the destination, validated by `configSchema` before the plugin sees them.
 *   Secret fields arrive decrypted; never log them.
 *
 * Exactly once per run (the part that matters most)
 * Writing the same run again (same export, model and interval) must leave the destination as if it had been
 * written once: a retry replaces what an earlier, possibly half-finished attempt wrote; it never adds to it.
 * Overlapping backfills write the same rows again and must not duplicate them either. Typical ways:
 * - tables: load into a per-run staging table, then in one transaction insert rows whose key is absent (events)
 *   or merge by key with the version condition (persons, sessions); drop the stage.
 * - files and objects: deterministic names derived from the interval, overwritten on retry, with a manifest
 *   written last that lists the files that belong to the run (stale extra files from an earlier attempt removed).
 */
import type { z } from 'zod';
import type { Model, ModelSchema, RecordBatch } from './models';
import type { SchemaMode } from './schema-evolution';
import type { Replacement } from './replacements';
import type { JsonlCompression, ParquetCompression } from './files/compression';

/** Bumped when the contract changes incompatibly. The host refuses plugins built for another version. */
export const CONTRACT_VERSION = 1 as const;

export interface PluginLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface Capabilities {
  /** File formats the destination can write, if it writes files. */
  formats?: readonly string[];
  /** Wire formats `writeEncoded` can land (see `WireFormat`); absent for row-only plugins. */
  wireFormats?: readonly WireFormatName[];
  /** True when the destination merges mutable models by key and version. */
  merge: boolean;
  /** How many runs of this destination one worker should execute at once. Default: 1. */
  suggestedConcurrency?: number;
}

/**
 * The phases of a connection test, in order, as users see them: reach the server (`connect`), sign in
 * (`authenticate`), check the privileges a run needs (`permissions`), write and remove a probe (`write_probe`).
 */
export const CONNECTION_STEPS = ['connect', 'authenticate', 'permissions', 'write_probe'] as const;
export type ConnectionStep = (typeof CONNECTION_STEPS)[number];

export interface ConnectionContext {
  signal: AbortSignal;
  logger: PluginLogger;
  /**
   * Optional, offered by hosts that report a connection test step by step: runs `fn` as the named step, recording
   * its success (with `detail` as its message when given) or the error it throws, which it rethrows. Call it through
   * `connectionStep(ctx, ...)`, which runs `fn` plainly under hosts that do not offer it. A plugin that uses no steps
   * is reported as one `connect` step.
   */
  step?<T>(name: ConnectionStep, fn: () => Promise<T>, detail?: string): Promise<T>;
  /**
   * The folder on the server's disk this team's destinations may write under: the operator's
   * `OUTPORT_LOCAL_FILES_ROOT` joined with the team's own `team-<id>` folder. A plugin that writes local files
   * resolves its paths inside it and refuses any that leave it (`..`, absolute paths elsewhere, symbolic links
   * leading out), so one team can never reach another team's files. Undefined when the host offers no local folder;
   * plugins read it from here, never from the environment.
   */
  localFilesDirectory?: string;
}

/** Runs `fn` as the named step of a connection test when the host reports steps (see `ConnectionContext.step`). */
export function connectionStep<T>(ctx: ConnectionContext, name: ConnectionStep, fn: () => Promise<T>, detail?: string): Promise<T> {
  return ctx.step ? ctx.step(name, fn, detail) : fn();
}

export interface RunContext extends ConnectionContext {
  /** Stable across attempts of the same run: use it (or the interval) to name staging objects deterministically. */
  runId: string;
  exportId: string;
  teamId: number;
  model: Model;
  schema: ModelSchema;
  /**
   * What to do when the destination's table and `schema` differ (schema-evolution.ts has the rules and helpers):
   * `EVOLVE` adds the columns the table lacks (nullable) and makes NOT NULL columns the export no longer writes
   * nullable; `FROZEN` fails the run with a `config` error saying how to proceed. Either way a column is never
   * dropped or retyped. File destinations write `schema` as it is. Default (absent): `EVOLVE`.
   */
  schemaMode?: SchemaMode;
  /**
   * POSTHOG when the export writes PostHog's layout (its columns are already in `schema`): file destinations then
   * name keys as PostHog does (src/sdk/files/keys.ts, key style posthog). Default (absent): OUTPORT.
   */
  layout?: 'OUTPORT' | 'POSTHOG';
  /** `[start, end)` in UTC. */
  interval: { start: Date; end: Date };
  /** 1 for the first attempt. */
  attempt: number;
  /** True when the run belongs to a backfill. */
  isBackfill: boolean;
  /** Rows the source reported for this run, when known (for progress only). */
  expectedRows?: number;
  /**
   * Call as data lands, with increments: the rows and bytes landed since your previous call (not running totals).
   * The host adds them up into the run's live progress (rows landed, bytes) published with each heartbeat; the
   * final counts come from `WriteResult`.
   */
  progress(update: { rows?: number; bytes?: number }): void;
}

export interface WriteResult {
  /**
   * Rows of this run present at the destination after the write: what reconciliation compares with rows read.
   * Count what really landed (rows in the stage that reached the final table, lines written to files), not the
   * number of rows handed to you.
   */
  rowsLanded: number;
  /** Bytes written to the destination (encoded, after compression when the destination compresses). */
  bytesWritten: number;
  /** Optional details shown in the run's log (file names, table names). */
  details?: Record<string, unknown>;
  /**
   * Every value the destination could not store as given and changed by a documented rule, counted per column and
   * rule (see `Replacement` and `ReplacementCounter`). The host adds the source's own replacements (invalid UTF-8),
   * writes one WARN line per rule to the run's log and stores the list on the run. Report them here rather than
   * through `ctx.logger`, which only reaches the worker's process log. Default: none.
   */
  replacements?: Replacement[];
}

/**
 * The byte path (optional, beside the row path): ClickHouse encodes and compresses, the host streams the bytes.
 *
 * A plugin that can land a file format ClickHouse writes declares it in `capabilities.wireFormats`, answers
 * `wireFormat(config)` with the one format a given config wants (or undefined: that config uses the row path), and
 * implements `writeEncoded`. The host then asks ClickHouse for exactly that format, over exactly the rows the row
 * path would deliver, and hands the plugin an `EncodedRun`: byte streams of the whole run or of disjoint slices of
 * it, plus the exact counts it needs to reconcile. Node never parses a row: it moves bytes with back-pressure
 * (the plugin's `await` on each chunk is the back-pressure), so memory stays bounded whatever the run's size.
 * Plugins without `writeEncoded` (third parties, older plugins) keep working through `write`, unchanged.
 *
 * Wire formats and the exact bytes they carry (rules documented in files/jsonl.ts and files/parquet.ts):
 * - `jsonl`: Outport's JSON Lines shape: one object per row, keys in schema order, json columns embedded as JSON
 *   (a value that is not valid JSON as a JSON string: rule `invalid_json_as_string`), timestamps as ISO-8601 UTC
 *   strings with microseconds, `\n` after every row. Compressed as a whole (gzip, brotli, zstd) or not. Byte for byte
   what `encodeJsonl` writes, except U+2028/U+2029 in strings spelled as escapes and json nested deeper than 1,023
   levels written as a JSON string (counted under `invalid_json_as_string`).
 * - `parquet`: one Parquet file per stream, the columns of the model in schema order: string/json -> UTF8,
 *   int -> INT64, float -> DOUBLE, bool -> BOOLEAN, timestamp -> TIMESTAMP(MICROS, UTC); required/optional as
 *   the schema's `nullable`; compressed per page with the codec given.
 * Adding a format (Postgres COPY text, CSV, NDJSON for a load job) means a new member here and its SQL in
 * src/source/encoded.ts; plugins then declare it like the others.
 *
 * Values the host's SQL changes by a documented rule (invalid UTF-8, invalid JSON embedded as a string) are counted
 * by the host and added to the run itself: `EncodedRun.replacements()` is for the plugin's own records (a
 * manifest); do not return them again in `WriteResult.replacements`.
 */
export type WireFormat =
  | { format: 'jsonl'; compression: JsonlCompression }
  | { format: 'parquet'; compression: ParquetCompression }
  /**
   * Postgres text COPY (src/source/wire/pgcopy.ts): the lines the Postgres plugin's row path sends to
   * `COPY ... FROM STDIN` (plugins/postgres/copy.ts with its Sanitizer's rules), fields in schema order, except that a
   * row a SQL rule cannot settle (json that may be too deep or hold a number outside Postgres numeric) comes as a
   * NUL byte and a JSON array of its fields, for the plugin to encode itself. Never compressed.
   */
  | { format: 'pgcopy'; compression: 'none' }
  /**
   * The gzip JSON Lines files the Snowflake plugin stages (src/source/wire/snowflake.ts): one object per row, keys
   * in schema order, `\n` after every row, the values `JSON.stringify` writes of the row path's rows (strings and
   * timestamps as JSON strings, ints and floats as numbers, bools, `null`); json columns as JSON strings of their
   * text, or of the JSON string of their text when it is not JSON (`invalid_json_as_string`). Escapes may be
   * spelled otherwise than JSON.stringify's outside json columns (`\u2028`, upper-case hex); the values are equal.
   */
  | { format: 'snowflake-jsonl'; compression: 'gzip' }
  /**
   * Newline-delimited JSON for a BigQuery load job (src/source/wire/bigquery.ts): the values the BigQuery plugin's
   * `NdjsonEncoder` sends, one object per row, keys in schema order, `\n` after every row; strings and timestamps
   * (ISO-8601 UTC, microseconds) as JSON strings, ints and floats as numbers, bools, `null`. json columns are JSON
   * strings of their text (`text`), or embedded documents (`document`: a value that is not JSON is written as a
   * JSON string and counted under `invalid_json_as_string`). Never compressed.
   */
  | { format: 'bigquery-ndjson'; compression: 'none'; jsonColumns: 'text' | 'document' }
  /**
   * Redshift insert mode (src/source/wire/redshift.ts): one SQL row literal `(v1, v2, ...)` per line, `\n` after
   * each, values under the Redshift plugin's rules (plugins/redshift/values.ts); strings as `'...'` with `'` doubled,
   * or, holding a backslash, as `$_$...$_$` (or with backslash / line feed spelled `'||CHR(92)||'` / `'||CHR(10)||'`
   * where a dollar quote cannot hold them); json columns in `JSON_PARSE(...)` for SUPER.
   */
  | { format: 'redshift-values'; compression: 'none'; properties: 'varchar' | 'super' }
  /**
   * Redshift copy mode: the JSON Lines the plugin's row path stages for `COPY ... FORMAT JSON 'auto'` (`jsonLine`
   * in plugins/redshift/s3-staging.ts), byte for byte, uncompressed (the plugin gzips and cuts the files).
   */
  | { format: 'redshift-jsonl'; compression: 'none'; properties: 'varchar' | 'super' };

export type WireFormatName = WireFormat['format'];

/**
 * A slice of the run by a hash of the model's key (events: uuid; persons: distinct_id; sessions: session_id), in
 * units of 1/`KEY_SLICES` of the hash space: `{ from: 0, to: KEY_SLICES }` is the whole run. Slices that do not
 * overlap hold disjoint rows; every row of the run lies in exactly one slice. Within a slice rows keep the run's
 * order.
 */
export interface KeySlice {
  from: number;
  to: number;
}

/** How finely a run can be sliced (see `KeySlice`). */
export const KEY_SLICES = 4096;

export interface EncodedRunStats {
  /** Rows of the run: ClickHouse's exact count over the very query the streams read. */
  rows: number;
  /** Rows in a slice, exact (for choosing slices: file sizes, parallel streams). */
  rowsIn(slice: KeySlice): number;
}

/** One stream of encoded bytes: a whole file (Parquet) or a whole document stream (JSON Lines). */
export interface EncodedPart {
  /** The bytes, in order. Read them to the end, or `return()` early to cancel the query. */
  chunks: AsyncIterable<Uint8Array>;
  /**
   * Once `chunks` ended: the rows and bytes the stream carried. Rows are counted from the bytes themselves
   * (lines as they pass, the Parquet footer's row count); a stream ClickHouse compressed takes the exact count of its
   * slice (`stats()`), or for the whole run the run's count query. Throws if the stream was cut short (no footer, a
   * count that disagrees with `stats()` once known).
   */
  finished(): Promise<{ rows: number; bytes: number }>;
}

export interface EncodedRun {
  format: WireFormat;
  /**
   * Exact rows of the run and of every slice: one count-only aggregate over the run's query (its keys, no value
   * rules: 300,000 events cost ClickHouse 0.25 CPU-s, reading them as JSON Lines 3.6), so call it to slice (file
   * sizes, parallel streams). Streams count themselves.
   */
  stats(): Promise<EncodedRunStats>;
  /**
   * Values the host's SQL changed by a documented rule in this run, per column and rule (already added to the run:
   * for the plugin's own records only). Cheap: a scan of the run's raw rows finds nothing to count in nearly every
   * run; only otherwise are the values counted, over the rows of the keys the scan found (events).
   */
  replacements(): Promise<Replacement[]>;
  /** Starts one ClickHouse query streaming the rows of `slice` (default: the whole run) in `format`. */
  open(slice?: KeySlice): Promise<EncodedPart>;
  /**
   * Optional: starts one ClickHouse query streaming only the run's keys (the model's `key` columns, in that order),
   * one row per line, tab-separated, `\n` after each, in ClickHouse's TabSeparated escaping (events: team_id and
   * uuid, which never need escaping); one line per row `open()` streams (events: each key once, the source
   * deduplicates by uuid). Much cheaper than the rows, for a destination that deletes a run's keys before loading
   * its rows (Postgres events).
   */
  openKeys?(): Promise<EncodedPart>;
}

export interface DestinationPlugin<C = any> {
  /** Stable identifier, lower-case (`s3`, `postgres`, `acme-warehouse`). Stored with each destination. */
  id: string;
  displayName: string;
  description?: string;
  contractVersion: typeof CONTRACT_VERSION;
  /**
   * A zod object. Each field's `.describe()` text is its documentation in the API's catalog and in forms;
   * `.default()` values are the defaults users get.
   */
  configSchema: z.ZodType<C>;
  /** Top-level config fields that are secrets: encrypted at rest, never returned by the API, never logged. */
  secretFields: readonly string[];
  models: readonly Model[];
  capabilities: Capabilities;
  /** Checks credentials and reachability without writing data. Throws a `DestinationError` when it fails. */
  testConnection(config: C, ctx: ConnectionContext): Promise<void>;
  /**
   * Lands one run's batches. Must honour `ctx.signal` (stop and leave the destination as before the run) and
   * the "exactly once per run" rule above. Throw `DestinationError`s; anything else is passed to `classifyError`.
   * Never called for an empty run: the host completes those without connecting. Read `batches` to its end: a
   * plugin that returns after fewer rows than the run holds fails reconciliation, whatever `rowsLanded` says.
   */
  write(config: C, ctx: RunContext, batches: AsyncIterable<RecordBatch>): Promise<WriteResult>;
  /**
   * Byte path, optional (see `WireFormat`): the one format this config lands, or undefined to use `write` for it.
   * Called once per run before any data moves.
   */
  wireFormat?(config: C, ctx: { model: Model; schema: ModelSchema }): WireFormat | undefined;
  /**
   * Byte path, optional: lands one run from ClickHouse-encoded bytes, under the same rules as `write` (exactly once
   * per run, `ctx.signal`, `DestinationError`s). `rowsLanded` must be the rows that really landed, e.g. the sum of
   * the `finished()` rows of the parts written; the host compares it with the rows its streams carried, or, once
   * the plugin called `stats()` (to slice), with the whole query's exact count, so a slice left out fails the run.
   * ClickHouse failures reach the plugin as `SourceError`s (keep them as `cause`): the host retries them as reading
   * failures. Never called for an empty run.
   */
  writeEncoded?(config: C, ctx: RunContext, run: EncodedRun): Promise<WriteResult>;
  /** Turns a foreign error into a `DestinationError`. Default: `classifyCommonError`. */
  classifyError?(err: unknown): DestinationError;
}

export type DestinationErrorKind = 'retryable' | 'permanent' | 'config';

/**
 * The only way a plugin says how a failure should be handled:
 * - `retryable`: transient (network, 5xx, throttling, timeouts). The host retries with backoff, honouring
 *   `retryAfterMs` up to its own cap.
 * - `permanent`: retrying cannot help (permission denied, missing table, schema mismatch). The run fails at once.
 * - `config`: the user's configuration is wrong (bad credentials, unknown bucket). Fails at once; the message
 *   should say which setting to fix.
 * Recognised by `name`, so it works across copies of this module.
 */
export class DestinationError extends Error {
  override readonly name = 'DestinationError';
  constructor(
    readonly kind: DestinationErrorKind,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number; code?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
    this.code = options.code;
  }
  readonly retryAfterMs?: number;
  /** A short machine-readable code (`AUTH_FAILED`, `TABLE_MISSING`), shown with the message. */
  readonly code?: string;
}

export function isDestinationError(err: unknown): err is DestinationError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as Error).name === 'DestinationError' &&
    ['retryable', 'permanent', 'config'].includes((err as DestinationError).kind)
  );
}

/** Identity helper that gives plugin authors type checking and fills in the contract version. */
export function defineDestination<C>(
  plugin: Omit<DestinationPlugin<C>, 'contractVersion'> & { contractVersion?: typeof CONTRACT_VERSION },
): DestinationPlugin<C> {
  return { ...plugin, contractVersion: CONTRACT_VERSION };
}
