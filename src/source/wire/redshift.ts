/**
 * The Redshift wire formats (see `WireFormat` in src/sdk/destination.ts): ClickHouse writes what the Redshift plugin's
 * row path sends, under the plugin's value rules (plugins/redshift/values.ts, README "Values Redshift cannot store"),
 * so the worker moves bytes without parsing a row.
 * - `redshift-values` (insert mode): one SQL row literal `(v1, v2, ...)` per line, for `INSERT ... VALUES`. A string
 *   must read the same whether the server treats backslash as an escape (Redshift) or not (Postgres, the test
 *   stand-in), and a row must never span two lines: `'...'` with `'` doubled when it has no backslash, else
 *   dollar-quoted (`$_$...$_$`), else (a line feed or the tag inside) `'...'` with backslash and line feed spelled
 *   `'||CHR(92)||'` and `'||CHR(10)||'`. json columns are wrapped in `JSON_PARSE(...)` for SUPER.
 * - `redshift-jsonl` (copy mode): the lines `jsonLine` (plugins/redshift/s3-staging.ts) writes for COPY's
 *   `FORMAT JSON 'auto'`, byte for byte: JSON strings spelled as JSON.stringify spells them (toJSONString escapes
 *   U+2028/U+2029 and writes upper-case hex, so values holding those characters take an exact, slower spelling).
 *
 * The value rules, in SQL, in the plugin's order: U+0000 -> U+FFFD (`nul`); a json value JSON.parse rejects ->
 * the JSON string of its text (`invalid_json_as_string`, decided by `jsonAcceptedSql` like the `jsonl` format, the
 * one documented difference being nesting deeper than 1,023 levels); text over 65,535 UTF-8 bytes cut before the
 * character that crosses the limit (`text_truncated`); a json value over 65,535 bytes -> the truncation marker with
 * the value's length as received (`json_truncated_marker`). Lone surrogates (`lone_surrogate`) cannot occur: the
 * source's text is valid UTF-8 already (`toValidUTF8`, counted by the host as `invalid_utf8`). The counts of these
 * rules per column come from `redshiftCounts`, added to the host's stats aggregate.
 */
import type { WireFormat } from '../../sdk/destination';
import type { Column, ModelSchema } from '../../sdk/models';
import { jsonAcceptedSql } from '../encoded';

export type RedshiftWireFormat = Extract<WireFormat, { format: 'redshift-values' | 'redshift-jsonl' }>;

export function isRedshiftFormat(format: WireFormat): format is RedshiftWireFormat {
  return format.format === 'redshift-values' || format.format === 'redshift-jsonl';
}

/** Redshift's VARCHAR maximum, in bytes (plugins/redshift/values.ts MAX_VARCHAR_BYTES). */
const MAX_VARCHAR_BYTES = 65_535;

const isText = (c: Column) => c.type === 'string' || c.type === 'json';
const lengthAlias = (c: Column) => `_outport_len_${c.name}`;

/** Characters toJSONString spells otherwise than JSON.stringify: control characters without a short escape, U+2028/9. */
const MISSPELLED = String.raw`\\x00-\\x07\\x0b\\x0e-\\x1f\\x{2028}\\x{2029}`;

/** The JSON string literal of the valid UTF-8 text `expr` (not NULL), byte for byte what JSON.stringify writes. */
export function jsStringSql(expr: string): string {
  const exact =
    `concat('"', arrayStringConcat(arrayMap(t -> if(match(t, '^[${MISSPELLED}]$'), ` +
    `if(t IN ('\u2028', '\u2029'), t, concat('\\\\u00', lower(hex(t)))), substring(toJSONString(t), 2, length(toJSONString(t)) - 2)), ` +
    `extractAll(${expr}, '[${MISSPELLED}]|[^${MISSPELLED}]+'))), '"')`;
  return `if(match(${expr}, '[${MISSPELLED}]'), ${exact}, toJSONString(${expr}))`;
}

/** U+0000 -> U+FFFD (rule `nul`). */
function withoutNul(expr: string): string {
  return `replaceAll(${expr}, char(0), '\uFFFD')`;
}

/** Keeps at most 65,535 bytes of valid UTF-8 `expr`, backing off the continuation bytes of a character the cut splits. */
function cutToVarchar(expr: string): string {
  const continuation = (pos: number) => `bitAnd(reinterpretAsUInt8(substring(${expr}, ${pos}, 1)), 192) = 128`;
  const max = MAX_VARCHAR_BYTES;
  const back = `multiIf(NOT ${continuation(max + 1)}, 0, NOT ${continuation(max)}, 1, NOT ${continuation(max - 1)}, 2, 3)`;
  return `if(length(${expr}) > ${max}, substring(${expr}, 1, ${max} - ${back}), ${expr})`;
}

/** The json value as stored: JSON text, or the JSON string of text that is not JSON (input without NUL, not NULL). */
function jsonOrString(expr: string): string {
  return `if(${jsonAcceptedSql(expr)}, ${expr}, ${jsStringSql(expr)})`;
}

function truncationMarker(originalBytes: string): string {
  return `concat('{"$outport_truncated":true,"original_bytes":', toString(${originalBytes}), '}')`;
}

/** Each column's value as the row path stores it (text; NULL stays NULL), over the NUL-free columns. */
function storedValue(c: Column): string {
  switch (c.type) {
    case 'string':
      return cutToVarchar(c.name);
    case 'json': {
      const text = `multiIf(${c.name} IS NULL, NULL, ${jsonOrString(`assumeNotNull(${c.name})`)})`;
      return `if(length(${text}) > ${MAX_VARCHAR_BYTES}, ${truncationMarker(lengthAlias(c))}, ${text})`;
    }
    case 'timestamp':
      // redshiftTimestamp: `2024-01-31T23:59:59.123456Z` -> `2024-01-31 23:59:59.123456+00`.
      return `replaceRegexpOne(${c.name}, '^([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.][0-9]+)?)Z$', '\\\\1 \\\\2+00')`;
    default:
      return c.name;
  }
}

/** The dollar-quote tag of text with backslashes: `$_$...$_$` is read as written by Redshift and Postgres alike. */
const TAG = '$_$';

/**
 * A SQL string literal of `expr` that reads the same whether the server treats backslash as an escape or not, on
 * one line (see the header): `'...'` when there is no backslash; dollar-quoted when there is one and the tag can
 * close nowhere but at the end (no line feed, no tag inside, no tag prefix at the end); otherwise `'...'` with each
 * backslash and line feed spelled as a CHR() call (an expression: slower for the server to take than a constant).
 */
function sqlLiteral(expr: string): string {
  const quoted = `replaceAll(${expr}, '''', '''''')`;
  const lineFeeds = (e: string) => `replaceAll(${e}, char(10), '''||CHR(10)||''')`;
  const plain = `concat('''', ${lineFeeds(quoted)}, '''')`;
  const spelled = `concat('''', ${lineFeeds(`replaceAll(${quoted}, '\\\\', '''||CHR(92)||''')`)}, '''')`;
  const dollarSafe = `position(${expr}, char(10)) = 0 AND position(${expr}, '${TAG}') = 0 AND NOT endsWith(${expr}, '${TAG.slice(0, 2)}')`;
  return `multiIf(position(${expr}, '\\\\') = 0, ${plain}, ${dollarSafe}, concat('${TAG}', ${expr}, '${TAG}'), ${spelled})`;
}

function valuesLiteral(c: Column, format: RedshiftWireFormat): string {
  const v = `assumeNotNull(${c.name})`;
  switch (c.type) {
    case 'int':
      return `ifNull(toString(${c.name}), 'NULL')`;
    case 'float':
      return `if(${c.name} IS NULL, 'NULL', concat('''', toString(${v}), ''''))`;
    case 'bool':
      return `multiIf(${c.name} IS NULL, 'NULL', ${c.name}, 'true', 'false')`;
    case 'json':
      if (format.properties === 'super') return `if(${c.name} IS NULL, 'NULL', concat('JSON_PARSE(', ${sqlLiteral(v)}, ')'))`;
      return `if(${c.name} IS NULL, 'NULL', ${sqlLiteral(v)})`;
    default:
      return `if(${c.name} IS NULL, 'NULL', ${sqlLiteral(v)})`;
  }
}

function jsonlValue(c: Column, format: RedshiftWireFormat): string {
  const v = `assumeNotNull(${c.name})`;
  switch (c.type) {
    case 'int':
    case 'float':
      return `ifNull(toString(${c.name}), 'null')`;
    case 'bool':
      return `multiIf(${c.name} IS NULL, 'null', ${c.name}, 'true', 'false')`;
    case 'json':
      // SUPER: the document embedded, its line breaks (whitespace there) made spaces, as jsonLine does.
      if (format.properties === 'super') return `if(${c.name} IS NULL, 'null', translate(${v}, '\\r\\n', '  '))`;
      return `if(${c.name} IS NULL, 'null', ${jsStringSql(v)})`;
    default:
      return `if(${c.name} IS NULL, 'null', ${jsStringSql(v)})`;
  }
}

/** The SELECT (with FORMAT) writing `rowsSql`'s rows (text already valid UTF-8) in a Redshift wire format. */
export function redshiftSelect(rowsSql: string, schema: ModelSchema, format: RedshiftWireFormat): string {
  const lengths = schema.columns.filter((c) => c.type === 'json').map((c) => `length(${c.name}) AS ${lengthAlias(c)}`);
  // Lengths as received are taken a level below the NUL rule: an alias named like a column shadows it in its SELECT.
  const received = `SELECT ${[...schema.columns.map((c) => c.name), ...lengths].join(', ')} FROM (${rowsSql})`;
  const cleaned = schema.columns
    .map((c) => (isText(c) ? `${withoutNul(c.name)} AS ${c.name}` : c.name))
    .concat(schema.columns.filter((c) => c.type === 'json').map(lengthAlias));
  const stored = schema.columns.map((c) => `${storedValue(c)} AS ${c.name}`);
  const line =
    format.format === 'redshift-values'
      ? `concat('(', ${schema.columns.map((c) => valuesLiteral(c, format)).join(`, ', ', `)}, ')')`
      : `concat(${schema.columns.map((c, i) => `'${i ? ',' : '{'}${JSON.stringify(c.name)}:', ${jsonlValue(c, format)}`).join(', ')}, '}')`;
  return `SELECT ${line} AS line FROM (SELECT ${stored.join(', ')} FROM (SELECT ${cleaned.join(', ')} FROM (${received}))) FORMAT TabSeparatedRaw`;
}

/** Settings the Redshift formats need: `/` unescaped in JSON strings, as JSON.stringify writes it. */
export const REDSHIFT_SETTINGS = { output_format_json_escape_forward_slashes: 0 } as const;

/**
 * The plugin's rule counts per column, as aggregate expressions over the row path's raw columns, aliased
 * `rule:<rule id>:<column>` (the host adds them to the run's replacements).
 */
export function redshiftCounts(schema: ModelSchema): string[] {
  const counts: string[] = [];
  for (const c of schema.columns.filter(isText)) {
    const clean = withoutNul(`toValidUTF8(assumeNotNull(${c.name}))`);
    counts.push(`countIf(position(${c.name}, char(0)) > 0) AS \`rule:nul:${c.name}\``);
    if (c.type === 'string') {
      counts.push(`countIf(length(${clean}) > ${MAX_VARCHAR_BYTES}) AS \`rule:text_truncated:${c.name}\``);
    } else {
      counts.push(`countIf(${c.name} IS NOT NULL AND NOT ${jsonAcceptedSql(clean)}) AS \`rule:invalid_json_as_string:${c.name}\``);
      counts.push(`countIf(${c.name} IS NOT NULL AND length(${jsonOrString(clean)}) > ${MAX_VARCHAR_BYTES}) AS \`rule:json_truncated_marker:${c.name}\``);
    }
  }
  return counts;
}

/**
 * Raw event values one of the plugin's rules may change (a superset), for the host's cheap scan of the events table:
 * NUL, over the VARCHAR limit, or (json columns) text ClickHouse's parser rejects, which `invalid_json_as_string`
 * may store as a JSON string. set/set_once are extracted from a `properties` ClickHouse parsed, and written again by
 * ClickHouse: valid JSON, but possibly longer than in `properties` (`1e20` becomes 21 digits, U+2028 `\u2028`; at
 * most about 5 times as long), so a `properties` of more than 1/8 of the limit is suspected when one of them is over.
 */
export function redshiftEventSuspects(): string[] {
  const extractedOver = `(length(properties) > ${Math.floor(MAX_VARCHAR_BYTES / 8)} AND greatest(length(JSONExtractRaw(properties, '$set')), length(JSONExtractRaw(properties, '$set_once'))) > ${MAX_VARCHAR_BYTES})`;
  return ['event', 'distinct_id', 'properties', 'person_properties', 'elements_chain'].map(
    (c) =>
      `(position(${c}, char(0)) > 0 OR length(${c}) > ${MAX_VARCHAR_BYTES}${c.endsWith('properties') ? ` OR (${c} != '' AND NOT isValidJSON(${c}))` : ''}${c === 'properties' ? ` OR ${extractedOver}` : ''})`,
  );
}
