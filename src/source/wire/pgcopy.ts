/**
 * The `pgcopy` wire format (see `WireFormat` in src/sdk/destination.ts): ClickHouse writes the Postgres text COPY
 * that the Postgres plugin's row path writes (plugins/postgres/copy.ts `encodeRow` with sanitize.ts `Sanitizer`),
 * so the worker pipes it into `COPY ... FROM STDIN` without parsing a row.
 *
 * Each line is built in SQL and written with `TabSeparatedRaw` (ClickHouse's TabSeparated escaping is not COPY's: it
 * also writes `\b`, `\f`, `\'` and `\0`), fields in the model's column order, tab-separated, `\n` after each row:
 * - NULL is `\N`; text escapes `\` `\n` `\r` `\t` as `\\` `\n` `\r` `\t`;
 * - ints as decimal; floats as JavaScript's `String(number)` spells them (`1e+21`, `0` for -0), NaN and infinities
 *   as `\N` (the row path reads them from ClickHouse's JSON as null); bools `t`/`f`; timestamps as the row path's
 *   ISO text;
 * - string columns: U+0000 becomes U+FFFD (rule `nul`). Lone UTF-16 surrogates cannot occur: the text is valid
 *   UTF-8 already (the host's `toValidUTF8`, rule `invalid_utf8`);
 * - json columns: U+0000 becomes U+FFFD (`nul`); a document JSON.parse accepts (`jsonAcceptedSql`) has its `\u0000`
 *   escapes (`nul`) and lone surrogate escapes (`lone_surrogate`, json-document.ts) spelled `\ufffd`; any other
 *   text is written as a JSON string holding it (`invalid_json_as_string`).
 * The two rules of the Sanitizer SQL does not apply, nesting deeper than 1,000 levels (`json_too_deep_as_string`) and
 * numbers outside Postgres numeric (`json_number_out_of_range_as_string`), need a scan of the document. Rows that
 * may need them (a json value with more than 1,000 `[`/`{`, a number with a 4-digit exponent, or a run of 1,000
 * digits: a superset, and rare) are FLAGGED instead: their line is a NUL byte (which no COPY line contains) followed
 * by a JSON array of the row's fields, text and json columns as their values (JSON strings, `null` for NULL), other
 * columns as their COPY fields (JSON strings). The plugin re-encodes those lines with its own Sanitizer and counts
 * their replacements itself; the stats aggregate counts only unflagged rows, so every value is counted once.
 *
 * The stage that COPY fills has the model's types (json is JSONB), so a json value lands as the same JSONB value as
 * the row path's, whatever the spelling of escapes inside it.
 */
import type { ClickHouseSettings } from '@clickhouse/client';
import type { Column, ModelSchema } from '../../sdk/models';
import { jsonAcceptedSql } from '../encoded';
import { readableJson } from '../json-document';

/** The first byte of a flagged row's line (see the header). */
export const PGCOPY_FLAGGED_ROW_MARKER = 0;

/** A ClickHouse string literal holding exactly `s`. */
function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0')}'`;
}

const NUL = lit('\0');
const REPLACEMENT = lit('\uFFFD');
/** Placeholder for an escaped backslash (`\\`) while escapes are rewritten: valid JSON holds no raw control characters. */
const ESCAPED_BACKSLASH = lit('\x01');

function copyEscape(s: string): string {
  return `replaceAll(replaceAll(replaceAll(replaceAll(${s}, ${lit('\\')}, ${lit('\\\\')}), ${lit('\n')}, ${lit('\\n')}), ${lit('\r')}, ${lit('\\r')}), ${lit('\t')}, ${lit('\\t')})`;
}

/** `s` with U+0000 as U+FFFD: the row path replaces it before anything else looks at the value. */
function withoutNul(s: string): string {
  return `replaceAll(${s}, ${NUL}, ${REPLACEMENT})`;
}

/** True when valid JSON text `t` holds a `\u0000` escape (not text after an escaped backslash). */
function hasNulEscape(t: string): string {
  return `(position(${t}, ${lit('\\u0000')}) > 0 AND position(replaceAll(${t}, ${lit('\\\\')}, ${ESCAPED_BACKSLASH}), ${lit('\\u0000')}) > 0)`;
}

/** Valid JSON text `t` with its lone surrogate and `\u0000` escapes as `\ufffd`, as the Sanitizer's scan fixes them. */
function fixedJson(t: string): string {
  const r = readableJson(t);
  const nulFixed = `replaceAll(replaceAll(replaceAll(${r}, ${lit('\\\\')}, ${ESCAPED_BACKSLASH}), ${lit('\\u0000')}, ${lit('\\ufffd')}), ${ESCAPED_BACKSLASH}, ${lit('\\\\')})`;
  return `if(position(${r}, ${lit('\\u0000')}) > 0, ${nulFixed}, ${r})`;
}

// A number token (after `[`, `:`, `,`, whitespace or the start) with an exponent of 4 or more digits.
const BIG_EXPONENT = String.raw`(^|[\[:,\s])-?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]{4}`;

/** True when the Sanitizer may store json text `t` as a JSON string for depth or number range (a superset). */
function mayNeedScan(t: string): string {
  return (
    `((length(${t}) > 2000 AND countSubstrings(${t}, '[') + countSubstrings(${t}, '{') > 1000)` +
    ` OR match(${t}, ${lit(BIG_EXPONENT)}) OR (length(${t}) >= 1000 AND match(${t}, '[0-9]{1000}')))`
  );
}

const jsonColumns = (schema: ModelSchema) => schema.columns.filter((c) => c.type === 'json');

/** True (in SQL) for rows whose line is flagged for the plugin to re-encode; `col` renders a column's valid text. */
function flaggedSql(schema: ModelSchema, col: (c: Column) => string): string {
  const json = jsonColumns(schema);
  if (json.length === 0) return '0';
  return `(${json.map((c) => `(${c.name} IS NOT NULL AND ${mayNeedScan(withoutNul(col(c)))})`).join(' OR ')})`;
}

function copyField(c: Column): string {
  const v = c.name;
  switch (c.type) {
    case 'int':
      return `ifNull(toString(${v}), '\\\\N')`;
    case 'float':
      return `multiIf(${v} IS NULL OR NOT isFinite(${v}), '\\\\N', ${v} = 0, '0', replaceRegexpOne(toString(${v}), 'e([0-9])', 'e+\\\\1'))`;
    case 'bool':
      return `multiIf(${v} IS NULL, '\\\\N', ${v}, 't', 'f')`;
    case 'timestamp':
      return `ifNull(${copyEscape(v)}, '\\\\N')`;
    case 'string':
      return `ifNull(${copyEscape(withoutNul(v))}, '\\\\N')`;
    case 'json': {
      const t = withoutNul(`assumeNotNull(${v})`);
      return `if(${v} IS NULL, '\\\\N', ${copyEscape(`if(${jsonAcceptedSql(t)}, ${fixedJson(t)}, toJSONString(${t}))`)})`;
    }
  }
}

function flaggedField(c: Column): string {
  if (c.type === 'string' || c.type === 'json') return `if(${c.name} IS NULL, 'null', toJSONString(assumeNotNull(${c.name})))`;
  return `toJSONString(${copyField(c)})`;
}

/** The SELECT (with FORMAT) and settings writing `rowsSql`'s rows (text already valid UTF-8) as COPY text. */
export function pgcopySelect(rowsSql: string, schema: ModelSchema): { sql: string; settings: ClickHouseSettings } {
  const line = `concat(${schema.columns.map(copyField).join(", '\\t', ")})`;
  const flagged = `concat(${lit('\0[')}, ${schema.columns.map(flaggedField).join(", ',', ")}, ']')`;
  return {
    sql: `SELECT if(${flaggedSql(schema, (c) => `assumeNotNull(${c.name})`)}, ${flagged}, ${line}) AS line FROM (${rowsSql}) FORMAT TabSeparatedRaw`,
    settings: { output_format_json_quote_64bit_integers: 0 },
  };
}

/**
 * The stats aggregate's counts for this format, over the row path's raw rows (not yet valid UTF-8): values the SQL
 * rules change in unflagged rows, aliased `rule:<rule>:<column>`.
 */
export function pgcopyCounts(schema: ModelSchema): string[] {
  const valid = (c: Column) => `toValidUTF8(assumeNotNull(${c.name}))`;
  const unflagged = `NOT ${flaggedSql(schema, valid)}`;
  const counts: string[] = [];
  for (const c of schema.columns) {
    if (c.type === 'string') {
      counts.push(`countIf(${unflagged} AND ${c.name} IS NOT NULL AND position(${c.name}, ${NUL}) > 0) AS \`rule:nul:${c.name}\``);
    } else if (c.type === 'json') {
      const t = withoutNul(valid(c));
      const accepted = jsonAcceptedSql(t);
      const present = `${unflagged} AND ${c.name} IS NOT NULL`;
      counts.push(`countIf(${present} AND (position(${c.name}, ${NUL}) > 0 OR (${accepted} AND ${hasNulEscape(t)}))) AS \`rule:nul:${c.name}\``);
      counts.push(`countIf(${present} AND ${accepted} AND ${readableJson(t)} != ${t}) AS \`rule:lone_surrogate:${c.name}\``);
      counts.push(`countIf(${present} AND NOT ${accepted}) AS \`rule:invalid_json_as_string:${c.name}\``);
    }
  }
  return counts;
}

/**
 * The raw-row scan's condition for events (see `eventSuspectsSelect` in encoded.ts): a superset of the rows whose
 * values a pgcopy SQL rule changes (invalid UTF-8 is in the host's part of the scan).
 */
export function pgcopyEventSuspects(): string[] {
  const text = ['event', 'distinct_id', 'elements_chain'].map((c) => `position(${c}, ${NUL}) > 0`);
  const json = ['properties', 'person_properties'].map(
    (c) => `(${c} != '' AND (position(${c}, ${NUL}) > 0 OR position(${c}, ${lit('\\u0000')}) > 0 OR positionCaseInsensitive(${c}, ${lit('\\ud')}) > 0 OR NOT isValidJSON(${c})))`,
  );
  return [...text, ...json];
}
