/**
 * The source side of the byte path (see `WireFormat` in src/sdk/destination.ts): ClickHouse encodes a run's rows in
 * the wire format a destination lands, and Node relays the bytes with back-pressure, never parsing a row.
 *
 * The rows are exactly the row path's: the same query (`ClickHouseSource.build`), the same invalid-UTF-8 rule
 * (`toValidUTF8` on every text column, utf8.ts), re-shaped per format in an outer SELECT:
 * - jsonl: each line is built in SQL and written with `TabSeparatedRaw` (one String column, no escaping, `\n` after
 *   each row), so json columns are embedded as JSON, as files/jsonl.ts writes them. A json value is embedded when
 *   ClickHouse's parser accepts its readable copy (json-document.ts: lone surrogate escapes read as U+FFFD), or,
 *   failing that, the same text with every number token replaced by 0 (ClickHouse's parser rejects numbers beyond
 *   Int64/UInt64/double range, which JSON.parse accepts); otherwise it is written as a JSON string
 *   (`invalid_json_as_string`). Line breaks inside an embedded document (whitespace there) become spaces.
 * - parquet: typed columns (timestamps parsed back to DateTime64(6, 'UTC') from the row path's ISO text),
 *   required or optional as the schema says, compressed by ClickHouse's writer with the requested codec.
 * Compression of JSON Lines is HTTP response compression (`enable_http_compression`), whose bytes are a valid
 * .gz/.br/.zst file. A server that answers uncompressed (the embedded endpoint has no zstd) is compressed here.
 *
 * Counting, without buffering: a part's rows are counted from its bytes as they pass (newlines; the Parquet footer's
 * row count). Two aggregates over the same query serve the rest, each only when needed:
 * - the exact rows per 1/KEY_SLICES of the key's hash space (`sliceCountsSelect`: the key only, no rule), when a
 *   plugin asks for `stats()` (to slice) or a whole-run stream ClickHouse compressed has no count from the host;
 * - the replacement counts per column and rule (`replacementsSelect`). For events a cheap scan of the run's raw rows
 *   (`suspectsSql`, `eventSuspectCondition`) finds, in nearly every run, nothing a rule may change; otherwise the
 *   counts are taken over the rows of the suspected uuids only (`suspectRowsSql`: the run's query with the uuids
 *   filtered before deduplication, so each one's row is the one the run reads), not over every row of the run: one
 *   hostile value then costs about a suspects scan, not a second reading of the run. That is exact because the
 *   scan's condition is a superset of the rows any of the format's rules changes (test/source/encoded-replacements
 *   .test.ts holds every format to it). Models without that scan (persons, sessions: small) count over every row.
 */
import type { ClickHouseClient, ClickHouseSettings, ExecResult } from '@clickhouse/client';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable as ReadableStream } from 'node:stream';
import { KEY_SLICES, type EncodedPart, type EncodedRun, type EncodedRunStats, type KeySlice, type WireFormat } from '../sdk/destination';
import { createJsonlCompressor } from '../sdk/files/compression';
import { parquetFooterRows } from '../sdk/files/parquet';
import type { ModelSchema, Column } from '../sdk/models';
import { ReplacementCounter, type Replacement } from '../sdk/replacements';
import { SourceError } from '../sdk/classify';
import { readableJson } from './json-document';
import { asSourceError } from './source-error';
import { INVALID_UTF8_RULE } from './utf8';
import { SNOWFLAKE_JSONL_SETTINGS, snowflakeJsonlSelect } from './wire/snowflake';
import { bigQueryNdjsonEmbedsJson, bigQueryNdjsonSelect } from './wire/bigquery';
import { pgcopyCounts, pgcopyEventSuspects, pgcopySelect, pgcopyStatsRows } from './wire/pgcopy';
import { isRedshiftFormat, REDSHIFT_SETTINGS, redshiftCounts, redshiftEventSuspects, redshiftSelect } from './wire/redshift';

const INVALID_JSON_RULE = 'invalid_json_as_string';
const HASH_BITS_PER_SLICE = 64n - BigInt(Math.log2(KEY_SLICES));

/** The column a model's rows are sliced by, as an expression over the row path's output (events' uuid is text there). */
export function sliceKeyHash(schema: ModelSchema): string {
  const key = schema.key.filter((k) => k !== 'team_id');
  if (key.length !== 1) throw new Error(`the ${schema.model} model has no single key column to slice by`);
  return schema.model === 'events' ? `cityHash64(toUUID(${key[0]}))` : `cityHash64(${key[0]})`;
}

export function checkSlice(slice: KeySlice): void {
  if (!Number.isInteger(slice.from) || !Number.isInteger(slice.to) || slice.from < 0 || slice.to > KEY_SLICES || slice.from >= slice.to) {
    throw new Error(`a key slice is a non-empty range of integers within [0, ${KEY_SLICES}] (got ${JSON.stringify(slice)})`);
  }
}

/** `hash >= lo AND hash < hi` for a slice, or undefined for the whole run. */
export function sliceCondition(hash: string, slice: KeySlice | undefined): string | undefined {
  if (!slice || (slice.from === 0 && slice.to === KEY_SLICES)) return undefined;
  const bound = (n: number) => `toUInt64('${(BigInt(n) << HASH_BITS_PER_SLICE).toString()}')`;
  const lo = slice.from > 0 ? [`${hash} >= ${bound(slice.from)}`] : [];
  const hi = slice.to < KEY_SLICES ? [`${hash} < ${bound(slice.to)}`] : [];
  return [...lo, ...hi].join(' AND ');
}

const isText = (c: Column) => c.type === 'string' || c.type === 'json';

/** The row path's columns, text made valid UTF-8 (the rule utf8.ts applies), restricted to a slice. */
function validRows(rowsSql: string, schema: ModelSchema, slice: KeySlice | undefined): string {
  const cols = schema.columns.map((c) => (isText(c) ? `toValidUTF8(${c.name}) AS ${c.name}` : c.name)).join(', ');
  const where = sliceCondition(sliceKeyHash(schema), slice);
  return `SELECT ${cols} FROM (${rowsSql})${where ? ` WHERE ${where}` : ''}`;
}

// A JSON number token with what precedes and follows it, so that digits inside a string (after a letter, `\u`)
// are never taken for one; replacing numbers inside strings by 0 cannot make an invalid document valid. A match
// consumes the character after the number, so two numbers with only a comma between them (`[1e400,1e400]`) need
// a space after each comma (whitespace after a comma, or a space inside a string, changes no document's validity).
const NUMBER_TOKEN = String.raw`(^|[\[:,\s])-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?([\]},\s]|$)`;

/** True (in SQL) when the valid-UTF-8 text `c` is a JSON document JSON.parse accepts (but for nesting > 1,023). */
export function jsonAcceptedSql(c: string): string {
  const readable = readableJson(c);
  const numbersAsZero = `replaceRegexpAll(replaceAll(${readable}, ',', ', '), '${NUMBER_TOKEN}', '\\\\10\\\\5')`;
  return `(isValidJSON(${readable}) OR isValidJSON(${numbersAsZero}))`;
}

/** A column's value as JSON text in Outport's JSON Lines shape (json columns embedded when JSON.parse reads them). */
export function jsonlValue(c: Column): string {
  switch (c.type) {
    case 'int':
    case 'float':
      return `ifNull(toString(${c.name}), 'null')`;
    case 'bool':
      return `multiIf(${c.name} IS NULL, 'null', ${c.name}, 'true', 'false')`;
    case 'string':
    case 'timestamp':
      return `ifNull(toJSONString(${c.name}), 'null')`;
    case 'json':
      return `multiIf(${c.name} IS NULL, 'null', ${jsonAcceptedSql(c.name)}, translate(assumeNotNull(${c.name}), '\\r\\n', '  '), toJSONString(assumeNotNull(${c.name})))`;
  }
}

function parquetValue(c: Column): string {
  const v =
    // A NULL's hidden default ('') must not fail the whole column: OrNull only for nullable ones (never invalid).
    c.type === 'timestamp' ? `parseDateTime64BestEffort${c.nullable ? 'OrNull' : ''}(${c.name}, 6, 'UTC')`
      : c.type === 'int' ? `toInt64(${c.name})`
        : c.type === 'float' ? `toFloat64(${c.name})`
          : c.type === 'bool' ? `toBool(${c.name})`
            : c.name;
  return `${c.nullable ? `toNullable(${v})` : `assumeNotNull(${v})`} AS ${c.name}`;
}

/**
 * One JSON object per line, built in SQL from each column's JSON text (`valueOf`), keys in schema order, written
 * with `TabSeparatedRaw` (no escaping, `\n` after each row).
 */
export function jsonLinesSelect(rowsSql: string, schema: ModelSchema, valueOf: (c: Column) => string): { sql: string; settings: ClickHouseSettings } {
  const parts = schema.columns.map((c, i) => `'${i ? ',' : '{'}${JSON.stringify(c.name)}:', ${valueOf(c)}`);
  return {
    sql: `SELECT concat(${parts.join(', ')}, '}') AS line FROM (${rowsSql}) FORMAT TabSeparatedRaw`,
    settings: { output_format_json_escape_forward_slashes: 0, output_format_json_quote_64bit_integers: 0 },
  };
}

/** The SELECT (with FORMAT) and settings that make ClickHouse write `format` for the rows of `rowsSql`. */
export function encodedSelect(rowsSql: string, schema: ModelSchema, format: WireFormat, slice?: KeySlice): { sql: string; settings: ClickHouseSettings } {
  const rows = validRows(rowsSql, schema, slice);
  if (format.format === 'snowflake-jsonl') return { sql: snowflakeJsonlSelect(rows, schema), settings: { ...SNOWFLAKE_JSONL_SETTINGS } };
  if (format.format === 'bigquery-ndjson') return bigQueryNdjsonSelect(rows, schema, format);
  if (format.format === 'pgcopy') return pgcopySelect(rows, schema);
  if (isRedshiftFormat(format)) return { sql: redshiftSelect(rows, schema, format), settings: { ...REDSHIFT_SETTINGS } };
  if (format.format === 'jsonl') return jsonLinesSelect(rows, schema, jsonlValue);
  return {
    sql: `SELECT ${schema.columns.map(parquetValue).join(', ')} FROM (${rows}) FORMAT Parquet`,
    settings: {
      output_format_parquet_compression_method: format.compression,
      output_format_parquet_string_as_string: 1,
      // Row groups of at most ~64 MiB keep readers' memory (and a split file's overshoot) bounded.
      output_format_parquet_row_group_size_bytes: String(64 * 1024 * 1024),
    },
  };
}

/**
 * The raw-row scan finding values a rule may change, as a SELECT list over the events table: 0 means there is
 * nothing to count.
 */
export function eventSuspectsSelect(format: WireFormat): string {
  return `countIf(${eventSuspectCondition(format)}) AS suspects`;
}

/**
 * True (in SQL, over the events table's raw columns) for every row one of `format`'s rules may change once the row
 * is read (a superset: no deduplication; a document JSON.parse reads may still be suspected). The replacement counts
 * are taken over the rows of these rows' uuids only, so a rule that can fire on a row this misses is a miscount.
 */
export function eventSuspectCondition(format: WireFormat): string {
  const text = ['event', 'distinct_id', 'properties', 'person_properties', 'elements_chain'].map((c) => `NOT isValidUTF8(${c})`);
  const json = format.format === 'jsonl' || format.format === 'snowflake-jsonl' || bigQueryNdjsonEmbedsJson(format) ? ['properties', 'person_properties'].map((c) => `(${c} != '' AND NOT isValidJSON(${c}))`) : [];
  const pgcopy = format.format === 'pgcopy' ? pgcopyEventSuspects() : [];
  const redshift = isRedshiftFormat(format) ? redshiftEventSuspects() : [];
  return `(${[...text, ...json, ...pgcopy, ...redshift].join(' OR ')})`;
}

/** The aggregate counting, per column and rule, the values the SQL of `format` changes in the rows of `rowsSql`. */
export function replacementsSelect(rowsSql: string, schema: ModelSchema, format: WireFormat): string {
  const counts = schema.columns.filter(isText).map((c) => `countIf(NOT isValidUTF8(${c.name})) AS \`utf8:${c.name}\``);
  if (format.format === 'jsonl' || format.format === 'snowflake-jsonl' || bigQueryNdjsonEmbedsJson(format)) {
    for (const c of schema.columns.filter((x) => x.type === 'json')) {
      counts.push(`countIf(${c.name} IS NOT NULL AND NOT ${jsonAcceptedSql(`toValidUTF8(assumeNotNull(${c.name}))`)}) AS \`json:${c.name}\``);
    }
  }
  if (format.format === 'pgcopy') counts.push(...pgcopyCounts(schema));
  if (isRedshiftFormat(format)) counts.push(...redshiftCounts(schema));
  return `SELECT ${counts.join(', ')} FROM (${format.format === 'pgcopy' ? pgcopyStatsRows(rowsSql, schema) : rowsSql})`;
}

/** Exact rows per 1/KEY_SLICES of the key's hash space: only the key is read, no rule is evaluated. */
export function sliceCountsSelect(rowsSql: string, schema: ModelSchema): string {
  return `SELECT intDiv(${sliceKeyHash(schema)}, toUInt64('${(1n << HASH_BITS_PER_SLICE).toString()}')) AS slice, count() AS rows
    FROM (${rowsSql}) GROUP BY slice`;
}

export interface EncodedRunOptions {
  client: ClickHouseClient;
  /** The row path's SQL for the run (without the invalid-UTF-8 wrap), its parameters and settings. */
  rowsSql: string;
  params: Record<string, unknown>;
  settings: ClickHouseSettings;
  /** The same query with a slice filter pushed into it (cheaper than the outer filter alone), if the model has one. */
  rowsSqlFor?(slice: KeySlice): string;
  schema: ModelSchema;
  format: WireFormat;
  /** The run's count query result, if the host took it: the rows of a whole-run stream ClickHouse compressed. */
  expectedRows?: number;
  /** The raw-row scan (see `eventSuspectsSelect`) as a whole query, for models that have one. */
  suspectsSql?: string;
  /**
   * With `suspectsSql`: the run's rows query (as `rowsSql`) keeping only the uuids of the rows the scan suspects,
   * filtered before deduplication so that each kept uuid's row is the one the whole query reads.
   */
  suspectRowsSql?: string;
  /**
   * The same rows without the sort that picks one copy per key (see `orderFree`), and the query answering how many
   * surplus copies the run's window holds (`duplicates`): a window with none streams unsorted.
   */
  unorderedRowsSqlFor?(slice?: KeySlice): string;
  duplicatesSql?: string;
  /**
   * Runs counted (`expectedRows`) below this keep the sort: there it costs little, and the check is one more query
   * for ClickHouse to plan (~25 ms, a sixth of a 1,000-row run's engine CPU). Default UNSORTED_FROM_ROWS.
   */
  unsortedFromRows?: number;
  signal?: AbortSignal;
  /** Bytes as they pass (for heartbeats and progress). */
  onBytes?(n: number): void;
}

/** See `EncodedRunOptions.unsortedFromRows`. */
export const UNSORTED_FROM_ROWS = 50_000;

/**
 * Formats landed in tables, where row order means nothing and the stream counts its own lines: they may skip the
 * dedup sort when the window holds one copy of each key. (Files keep the row path's order; Snowflake's stream is
 * compressed by ClickHouse, so it could not count a copy that arrived after the check.)
 */
function orderFree(format: WireFormat): boolean {
  return format.format === 'pgcopy' || format.format === 'bigquery-ndjson' || isRedshiftFormat(format);
}

/** What the host needs beyond the plugin's view: the rows the streams carried, and the exact count if it was taken. */
export interface HostEncodedRun extends EncodedRun {
  /** Rows counted in the parts read to their end so far. */
  rowsStreamed(): number;
  /** The exact row count, if `stats()` was called (the host then checks the streams against it). */
  exactRows(): Promise<number | undefined>;
}

/** The `EncodedRun` a host hands to `writeEncoded`. */
export function encodedRun(o: EncodedRunOptions): HostEncodedRun {
  let stats: Promise<EncodedRunStats> | undefined;
  const getStats = () => (stats ??= runStats(o).catch((err) => Promise.reject(asSourceError(err))));
  let replacements: Promise<Replacement[]> | undefined;
  const getReplacements = () =>
    (replacements ??= (async () => {
      if (o.suspectsSql === undefined) return countReplacements(o, o.rowsSql);
      if ((await countSuspects(o)) === 0) return [];
      return countReplacements(o, o.suspectRowsSql ?? o.rowsSql);
    })().catch((err) => Promise.reject(asSourceError(err))));
  // Started now, so that it runs alongside the first stream; failures surface where it is awaited.
  getReplacements().catch(() => undefined);
  const streamed = { rows: 0 };
  let unique: Promise<boolean> | undefined;
  const windowHoldsOneCopyOfEachKey = () =>
    (unique ??= (async () => {
      if (!orderFree(o.format) || !o.unorderedRowsSqlFor || o.duplicatesSql === undefined) return false;
      if (o.expectedRows === undefined || o.expectedRows < (o.unsortedFromRows ?? UNSORTED_FROM_ROWS)) return false;
      const rs = await o.client.query({ query: o.duplicatesSql, query_params: o.params, format: 'JSONEachRow', clickhouse_settings: o.settings, abort_signal: o.signal });
      const [row] = await rs.json<{ duplicates: string | number }>();
      return Number(row?.duplicates ?? 1) === 0;
    })().catch((err) => Promise.reject(asSourceError(err))));
  return {
    format: o.format,
    stats: getStats,
    replacements: getReplacements,
    open: (slice) => openPart(o, slice, getStats, () => stats !== undefined, streamed, windowHoldsOneCopyOfEachKey),
    // Not added to the rows streamed: the host reconciles the rows, the keys are the plugin's own check.
    openKeys: () => openPart(o, undefined, getStats, () => stats !== undefined, { rows: 0 }, windowHoldsOneCopyOfEachKey, true),
    rowsStreamed: () => streamed.rows,
    exactRows: async () => (stats ? (await stats).rows : undefined),
  };
}

async function countSuspects(o: EncodedRunOptions): Promise<number> {
  const rs = await o.client.query({ query: o.suspectsSql!, query_params: o.params, format: 'JSONEachRow', clickhouse_settings: o.settings, abort_signal: o.signal });
  const [row] = await rs.json<{ suspects: string | number }>();
  return Number(row?.suspects ?? 0);
}

/** The rules' counts over `rowsSql` (the run's rows, or only those of suspected uuids: the same counts). */
async function countReplacements(o: EncodedRunOptions, rowsSql: string): Promise<Replacement[]> {
  const rs = await o.client.query({
    query: replacementsSelect(rowsSql, o.schema, o.format),
    query_params: o.params,
    format: 'JSONEachRow',
    clickhouse_settings: o.settings,
    abort_signal: o.signal,
  });
  const counter = new ReplacementCounter();
  for (const r of await rs.json<Record<string, string | number>>()) {
    for (const [k, v] of Object.entries(r)) {
      if (k.startsWith('utf8:')) counter.add(k.slice(5), INVALID_UTF8_RULE, Number(v));
      else if (k.startsWith('json:')) counter.add(k.slice(5), INVALID_JSON_RULE, Number(v));
      // A format's own rules (src/source/wire/): `rule:<rule id>:<column>`.
      else if (k.startsWith('rule:')) counter.add(k.slice(k.lastIndexOf(':') + 1), k.slice(5, k.lastIndexOf(':')), Number(v));
    }
  }
  return counter.list();
}

async function runStats(o: EncodedRunOptions): Promise<EncodedRunStats> {
  const rs = await o.client.query({
    query: sliceCountsSelect(o.rowsSql, o.schema),
    query_params: o.params,
    format: 'JSONEachRow',
    clickhouse_settings: o.settings,
    abort_signal: o.signal,
  });
  const perSlice = new Float64Array(KEY_SLICES);
  let rows = 0;
  for (const r of await rs.json<{ slice: string | number; rows: string | number }>()) {
    const n = Number(r.rows);
    perSlice[Number(r.slice)] = n;
    rows += n;
  }
  const prefix = new Float64Array(KEY_SLICES + 1);
  for (let i = 0; i < KEY_SLICES; i++) prefix[i + 1] = prefix[i] + perSlice[i];
  return {
    rows,
    rowsIn: (slice) => {
      checkSlice(slice);
      return prefix[slice.to] - prefix[slice.from];
    },
  };
}

const ACCEPT: Record<string, string> = { gzip: 'gzip', brotli: 'br', zstd: 'zstd' };

async function openPart(
  o: EncodedRunOptions,
  slice: KeySlice | undefined,
  getStats: () => Promise<EncodedRunStats>,
  statsTaken: () => boolean,
  streamed: { rows: number },
  windowHoldsOneCopyOfEachKey: () => Promise<boolean>,
  keysOnly = false,
): Promise<EncodedPart> {
  if (slice) checkSlice(slice);
  const unordered = await windowHoldsOneCopyOfEachKey();
  const rowsSql = unordered ? o.unorderedRowsSqlFor!(slice) : slice && o.rowsSqlFor ? o.rowsSqlFor(slice) : o.rowsSql;
  const { sql, settings } = keysOnly
    ? { sql: `SELECT ${o.schema.key.join(', ')} FROM (${validRows(rowsSql, o.schema, slice)}) FORMAT TabSeparated`, settings: {} }
    : encodedSelect(rowsSql, o.schema, o.format, slice);
  const compression = !keysOnly && (o.format.format === 'jsonl' || o.format.format === 'snowflake-jsonl') ? o.format.compression : 'none';
  const accept = ACCEPT[compression];
  const request = new AbortController();
  const onAbort = () => request.abort(o.signal?.reason);
  if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let result: ExecResult<Readable>;
  try {
    result = await o.client.exec({
      query: sql,
      query_params: o.params,
      clickhouse_settings: {
        ...o.settings,
        ...settings,
        ...(accept ? { enable_http_compression: 1, http_zlib_compression_level: 3 } : {}),
        // A real server stops the query when the client goes away (the embedded endpoint always does).
        cancel_http_readonly_queries_on_client_close: 1,
      } as ClickHouseSettings,
      decompress_response_stream: false,
      http_headers: accept ? { 'Accept-Encoding': accept } : {},
      abort_signal: request.signal,
    });
  } catch (err) {
    o.signal?.removeEventListener('abort', onAbort);
    throw asSourceError(err);
  }
  const served = String(result.response_headers['content-encoding'] ?? '').toLowerCase();
  const compressedByServer = accept !== undefined && served === accept;
  if (served && !compressedByServer) {
    result.stream.destroy();
    o.signal?.removeEventListener('abort', onAbort);
    throw new Error(`ClickHouse answered with Content-Encoding ${served}, not the ${accept ?? 'identity'} asked for`);
  }
  const countLines = keysOnly || (o.format.format === 'jsonl' || o.format.format === 'bigquery-ndjson' || o.format.format === 'snowflake-jsonl' || o.format.format === 'pgcopy' || isRedshiftFormat(o.format)) && !compressedByServer;
  const compressHere = accept !== undefined && !compressedByServer;
  const counted = { lines: 0, bytes: 0, ended: false, tail: [] as Buffer[], tailBytes: 0 };
  const keepTail = !keysOnly && o.format.format === 'parquet';

  async function* raw(stream: Readable): AsyncGenerator<Buffer> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (countLines) {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) counted.lines++;
      }
      if (keepTail) rememberTail(counted, chunk);
      yield chunk;
    }
  }
  async function* compressed(stream: Readable): AsyncGenerator<Buffer> {
    const compressor = createJsonlCompressor(compression as 'gzip' | 'brotli' | 'zstd')!;
    const piping = pipeline(ReadableStream.from(raw(stream)), compressor);
    piping.catch(() => undefined);
    try {
      for await (const chunk of compressor) yield chunk as Buffer;
      await piping;
    } finally {
      if (!compressor.destroyed) compressor.destroy();
    }
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let complete = false;
    try {
      const source = (compressHere ? compressed(result.stream) : raw(result.stream))[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await source.next();
        } catch (err) {
          if (o.signal?.aborted) throw o.signal.reason ?? err;
          throw asSourceError(err);
        }
        if (next.done) break;
        counted.bytes += next.value.byteLength;
        o.onBytes?.(next.value.byteLength);
        yield next.value;
      }
      if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
      complete = true;
      counted.ended = true;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      if (!complete) {
        request.abort();
        result.stream.destroy();
      }
    }
  }
  return {
    chunks: chunks(),
    async finished() {
      if (!counted.ended) throw new Error('EncodedPart.finished() called before its chunks were read to the end');
      const whole = !slice || (slice.from === 0 && slice.to === KEY_SLICES);
      // The exact count of this slice, when it is known or needed (a compressed stream cannot count itself).
      const exact = async () => (await getStats()).rowsIn(slice ?? { from: 0, to: KEY_SLICES });
      let rows: number;
      if (keepTail) rows = parquetFooterRows(Buffer.concat(counted.tail));
      else if (countLines) rows = counted.lines;
      else rows = whole && o.expectedRows !== undefined && !statsTaken() ? o.expectedRows : await exact();
      // Unsorted, the stream keeps every copy of a key: one that arrived after the check makes the count differ.
      if (unordered && whole && !keysOnly && o.expectedRows !== undefined && rows !== o.expectedRows) {
        throw new SourceError(`the ${o.format.format} stream from ClickHouse holds ${rows} rows, but the run counted ${o.expectedRows}: the data changed while it was read`);
      }
      if (statsTaken() || !whole) {
        const expected = await exact();
        if (rows !== expected) {
          throw new SourceError(`the ${o.format.format} stream from ClickHouse holds ${rows} rows, but the same query counts ${expected}: the stream was cut short or the data changed while it was read`);
        }
      }
      streamed.rows += rows;
      return { rows, bytes: counted.bytes };
    },
  };
}

/** ClickHouse failures are the source's (retried, reported as reading failures), whoever consumes the stream. */

/** Keeps at least the last TAIL_BYTES of a stream (the Parquet footer is read from them). */
const TAIL_BYTES = 4 * 1024 * 1024;
function rememberTail(state: { tail: Buffer[]; tailBytes: number }, chunk: Buffer): void {
  state.tail.push(chunk);
  state.tailBytes += chunk.byteLength;
  while (state.tail.length > 1 && state.tailBytes - state.tail[0].byteLength >= TAIL_BYTES) {
    state.tailBytes -= state.tail.shift()!.byteLength;
  }
}

/**
 * An `EncodedRun` over exactly `rows` (in order): they are put in a table of `database` with the row path's column
 * shapes, and encoded by the same SQL as a run's. For the conformance kit (`ConformanceFixture.encodeRows`) and
 * tests that compare the two data paths on rows built in JS. `done()` drops the table.
 */
export async function encodedRunFromRows(
  client: ClickHouseClient,
  database: string,
  schema: ModelSchema,
  rows: Record<string, unknown>[],
  format: WireFormat,
): Promise<{ run: EncodedRun; done(): Promise<void> }> {
  const table = `${database}.encode_rows_${Math.random().toString(36).slice(2, 12)}`;
  const base = (c: Column) => (c.type === 'int' ? 'Int64' : c.type === 'float' ? 'Float64' : c.type === 'bool' ? 'Bool' : 'String');
  const columns = schema.columns.map((c) => `${c.name} ${c.nullable ? `Nullable(${base(c)})` : base(c)}`).join(', ');
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({ query: `CREATE TABLE ${table} (_n UInt32, ${columns}) ENGINE = MergeTree ORDER BY _n` });
  await client.insert({ table, values: rows.map((r, i) => ({ _n: i, ...r })), format: 'JSONEachRow' });
  const run = encodedRun({
    client,
    rowsSql: `SELECT ${schema.columns.map((c) => c.name).join(', ')} FROM ${table} ORDER BY _n`,
    params: {},
    settings: {},
    schema,
    format,
  });
  return { run, done: async () => void (await client.command({ query: `DROP TABLE IF EXISTS ${table}` })) };
}
