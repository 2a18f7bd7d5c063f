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
 * may need them (a json value with more than 1,000 `[`/`{`, a 4-digit negative exponent, a zero with a 4-digit
 * exponent, a run of 1,000 digits in a long value, or a number ClickHouse's parser rejects: a superset, and rare)
 * are FLAGGED instead: their line is a NUL byte (which no COPY line contains) followed
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

/** Valid JSON text (its readable copy `r`) with lone surrogate and `\u0000` escapes as `\ufffd`, as the Sanitizer fixes them. */
function fixedJson(r: string): string {
  const nulFixed = `replaceAll(replaceAll(replaceAll(${r}, ${lit('\\\\')}, ${ESCAPED_BACKSLASH}), ${lit('\\u0000')}, ${lit('\\ufffd')}), ${ESCAPED_BACKSLASH}, ${lit('\\\\')})`;
  return `if(position(${r}, ${lit('\\u0000')}) > 0, ${nulFixed}, ${r})`;
}

// Number tokens (after `[`, `:`, `,`, whitespace or the start) that simdjson reads but Postgres numeric may not:
// a negative exponent of 4 or more digits, and a zero mantissa with a positive one (`0e200000` is 0 to simdjson).
const NEGATIVE_BIG_EXPONENT = String.raw`(^|[\[:,\s])-?[0-9]+(\.[0-9]+)?[eE]-[0-9]{4}`;
const ZERO_BIG_EXPONENT = String.raw`(^|[\[:,\s])-?0(\.0+)?[eE]\+?[0-9]{4}`;

/**
 * True when the Sanitizer may store json text `t` as a JSON string for depth or number range: a superset, by cheap
 * tests first. What ClickHouse's parser reads as a document holds only numbers a double holds, so beyond the
 * exponents above only a run of more than 15,000 digits can be out of range; a number ClickHouse's parser rejects
 * (beyond double or 64-bit range) flags the value whenever JSON.parse would accept it.
 */
function mayNeedScan(t: string, readable: string, accepted: string): string {
  return (
    `((length(${t}) > 2000 AND countSubstrings(${t}, '[') + countSubstrings(${t}, '{') > 1000)` +
    ` OR (length(${t}) > 15000 AND match(${t}, '[0-9]{1000}'))` +
    ` OR (positionCaseInsensitive(${t}, 'e-') > 0 AND match(${t}, ${lit(NEGATIVE_BIG_EXPONENT)}))` +
    ` OR (positionCaseInsensitive(${t}, '0e') > 0 AND match(${t}, ${lit(ZERO_BIG_EXPONENT)}))` +
    ` OR (NOT isValidJSON(${readable}) AND ${accepted}))`
  );
}

const jsonColumns = (schema: ModelSchema) => schema.columns.filter((c) => c.type === 'json');

/** Per json column, computed once per row in an inner SELECT (the expressions are long: the query stays small). */
const textOf = (c: Column) => `__pgcopy_text_${c.name}`;
const readableOf = (c: Column) => `__pgcopy_readable_${c.name}`;
const acceptedOf = (c: Column) => `__pgcopy_accepted_${c.name}`;
const FLAGGED = '__pgcopy_flagged';

/**
 * `rowsSql`'s columns plus, per json column, its text without NUL, that text's readable copy (json-document.ts) and
 * whether JSON.parse accepts it, and the row's flag. `valid(c)` renders a json column's text as valid UTF-8.
 */
function withJsonFacts(rowsSql: string, schema: ModelSchema, valid: (c: Column) => string): string {
  const json = jsonColumns(schema);
  if (json.length === 0) return `SELECT *, 0 AS ${FLAGGED} FROM (${rowsSql})`;
  const facts = json.flatMap((c) => [
    `${withoutNul(valid(c))} AS ${textOf(c)}`,
    // The text is valid UTF-8 and nearly never holds a `\ud` escape: skip readableJson's own scans for those.
    `if(positionCaseInsensitive(${textOf(c)}, ${lit('\\ud')}) > 0, ${readableJson(textOf(c))}, ${textOf(c)}) AS ${readableOf(c)}`,
    `(isValidJSON(${readableOf(c)}) OR ${jsonAcceptedSql(textOf(c))}) AS ${acceptedOf(c)}`,
  ]);
  const flagged = json.map((c) => `(${c.name} IS NOT NULL AND ${mayNeedScan(textOf(c), readableOf(c), acceptedOf(c))})`).join(' OR ');
  return `SELECT *, ${facts.join(', ')}, (${flagged}) AS ${FLAGGED} FROM (${rowsSql})`;
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
    case 'json':
      return `if(${v} IS NULL, '\\\\N', ${copyEscape(`if(${acceptedOf(c)}, ${fixedJson(readableOf(c))}, toJSONString(${textOf(c)}))`)})`;
  }
}

function flaggedField(c: Column): string {
  if (c.type === 'string' || c.type === 'json') return `if(${c.name} IS NULL, 'null', toJSONString(assumeNotNull(${c.name})))`;
  return `toJSONString(${copyField(c)})`;
}

/** The SELECT (with FORMAT) and settings writing `rowsSql`'s rows (text already valid UTF-8) as COPY text. */
export function pgcopySelect(rowsSql: string, schema: ModelSchema): { sql: string; settings: ClickHouseSettings } {
  const line = `concat(${schema.columns.map(copyField).join(", '\\t', ")})`;
  const flagged = `concat(${lit(String.fromCharCode(PGCOPY_FLAGGED_ROW_MARKER) + '[')}, ${schema.columns.map(flaggedField).join(", ',', ")}, ']')`;
  const rows = withJsonFacts(rowsSql, schema, (c) => `assumeNotNull(${c.name})`);
  return {
    sql: `SELECT if(${FLAGGED}, ${flagged}, ${line}) AS copy_line FROM (${rows}) FORMAT TabSeparatedRaw`,
    settings: { output_format_json_quote_64bit_integers: 0 },
  };
}

/** The rows the stats aggregate counts `pgcopyCounts` over: the row path's raw rows plus the json facts. */
export function pgcopyStatsRows(rowsSql: string, schema: ModelSchema): string {
  return withJsonFacts(rowsSql, schema, (c) => `toValidUTF8(assumeNotNull(${c.name}))`);
}

/**
 * The stats aggregate's counts for this format, over `pgcopyStatsRows`: values the SQL rules change in unflagged
 * rows, aliased `rule:<rule>:<column>`.
 */
export function pgcopyCounts(schema: ModelSchema): string[] {
  const counts: string[] = [];
  for (const c of schema.columns) {
    if (c.type === 'string') {
      counts.push(`countIf(NOT ${FLAGGED} AND ${c.name} IS NOT NULL AND position(${c.name}, ${NUL}) > 0) AS \`rule:nul:${c.name}\``);
    } else if (c.type === 'json') {
      const present = `NOT ${FLAGGED} AND ${c.name} IS NOT NULL`;
      const [t, r, ok] = [textOf(c), readableOf(c), acceptedOf(c)];
      counts.push(`countIf(${present} AND (position(${c.name}, ${NUL}) > 0 OR (${ok} AND ${hasNulEscape(t)}))) AS \`rule:nul:${c.name}\``);
      counts.push(`countIf(${present} AND ${ok} AND ${r} != ${t}) AS \`rule:lone_surrogate:${c.name}\``);
      counts.push(`countIf(${present} AND NOT ${ok}) AS \`rule:invalid_json_as_string:${c.name}\``);
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
