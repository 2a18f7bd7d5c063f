/**
 * The `snowflake-jsonl` wire format (see `WireFormat` in src/sdk/destination.ts): the JSON Lines files the Snowflake
 * plugin's row path stages (plugins/snowflake/parts.ts and values.ts), written by ClickHouse.
 *
 * The row path stages `JSON.stringify(row)` of the rows the source reads as JSONCompactEachRow, with every json
 * column kept as TEXT (a JSON string: PARSE_JSON turns it into a VARIANT on merge) and a json value JSON.parse
 * rejects staged as the JSON string of its text (rule `invalid_json_as_string`), so PARSE_JSON reads it as a string.
 * ClickHouse's JSONEachRow over the same columns writes the same values (the same types decide numbers, booleans,
 * null, timestamps as ISO text), so only json columns are re-shaped here. Whether JSON.parse accepts a document is
 * decided by `jsonAcceptedSql`, the rule the `jsonl` format uses (nesting deeper than 1,023 levels is the one
 * difference it documents), and the JSON string of a rejected text is spelled exactly as JSON.stringify spells it
 * (ClickHouse's toJSONString escapes U+2028/U+2029 and writes upper-case hex), since a store that keeps JSON as text
 * would otherwise see other text.
 *
 * Lone surrogates (the plugin's `lone_surrogate` rule) cannot occur here: the source's text is valid UTF-8
 * (`toValidUTF8`, counted by the host as `invalid_utf8`).
 */
import type { ModelSchema } from '../../sdk/models';
import { jsonAcceptedSql } from '../encoded';

/** JSON.stringify's escapes of the characters below U+0020 (besides `"` and `\`), as SQL string literals. */
const CONTROL_ESCAPES: [number, string][] = Array.from({ length: 0x20 }, (_, code) => [
  code,
  `'${JSON.stringify(String.fromCharCode(code)).slice(1, -1).replace(/\\/g, '\\\\')}'`,
]);

/** The JSON string literal of the text `expr`, byte for byte what JSON.stringify writes for a well-formed string. */
export function jsStringifySql(expr: string): string {
  let out = `replaceAll(replaceAll(${expr}, '\\\\', '\\\\\\\\'), '"', '\\\\"')`;
  for (const [code, escaped] of CONTROL_ESCAPES) out = `replaceAll(${out}, char(${code}), ${escaped})`;
  return `concat('"', ${out}, '"')`;
}

/** The SELECT writing the staged lines of `rowsSql` (the row path's columns, text already valid UTF-8). */
export function snowflakeJsonlSelect(rowsSql: string, schema: ModelSchema): string {
  const columns = schema.columns.map((c) =>
    c.type === 'json'
      ? `multiIf(${c.name} IS NULL, NULL, ${jsonAcceptedSql(c.name)}, ${c.name}, ${jsStringifySql(`assumeNotNull(${c.name})`)}) AS ${c.name}`
      : c.name,
  );
  return `SELECT ${columns.join(', ')} FROM (${rowsSql}) FORMAT JSONEachRow`;
}

/** Settings that make JSONEachRow write what JSON.stringify writes of the same values (escapes aside). */
export const SNOWFLAKE_JSONL_SETTINGS = {
  output_format_json_escape_forward_slashes: 0,
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_denormals: 0,
  output_format_json_quote_decimals: 0,
} as const;
