/**
 * Invalid UTF-8 in ClickHouse String columns.
 *
 * ClickHouse Strings are bytes; our rows are JS strings, which cannot hold invalid UTF-8, and ClickHouse writes
 * such bytes raw into its JSON output. Left to the client, Node's decoder would turn them into U+FFFD silently.
 * So the rows query itself applies the rule and reports it: every text column (`string` and `json`) goes through
 * `toValidUTF8` (each run of invalid bytes becomes one U+FFFD), and a hidden last column holds a bitmask of the
 * columns whose value was not valid UTF-8 (bit i = the model's column i). The stream strips it and counts per
 * column. Measured on 200k events (~1.3 KB each) on the embedded engine: the wrap costs nothing measurable next to
 * the query's deduplication, whereas `countIf(NOT isValidUTF8(...))` in the count query doubled that query and
 * could not see derived columns (`set`, `set_once`). The SQL is plain ClickHouse, so an export that has
 * ClickHouse write files directly can run the same wrap.
 */
import type { ModelSchema } from '../sdk/models';
import type { ReplacementCounter } from '../sdk/replacements';

export const INVALID_UTF8_RULE = 'invalid_utf8';
export const INVALID_UTF8_MASK_COLUMN = '_outport_invalid_utf8';

const isText = (type: string) => type === 'string' || type === 'json';

/** `rowsSql` (selecting the model's columns in schema order) with text made valid UTF-8 and the mask appended. */
export function withValidUtf8(rowsSql: string, schema: ModelSchema): string {
  const text = schema.columns.map((c, i) => ({ name: c.name, bit: i })).filter((c) => isText(schema.columns[c.bit].type));
  if (text.length === 0) return rowsSql;
  if (schema.columns.length > 52) throw new Error(`the ${schema.model} model has too many columns for a UTF-8 bitmask`);
  const mask = text.map((c) => `ifNull(NOT isValidUTF8(${c.name}), 0) * ${2 ** c.bit}`).join(' + ');
  const outer = schema.columns.map((c) => (isText(c.type) ? `toValidUTF8(${c.name}) AS ${c.name}` : c.name)).join(', ');
  // Two levels: the mask must see the original bytes, and the outer aliases reuse the column names.
  return `SELECT ${outer}, ${INVALID_UTF8_MASK_COLUMN}
    FROM (SELECT *, toUInt64(${mask}) AS ${INVALID_UTF8_MASK_COLUMN} FROM (${rowsSql}))`;
}

/** Adds one row's mask (the value of the hidden column) to `counter`, one value per flagged column. */
export function countInvalidUtf8(mask: unknown, schema: ModelSchema, counter: ReplacementCounter | undefined): void {
  let bits = Number(mask);
  if (!counter || !bits) return;
  for (let i = 0; bits > 0; i++, bits = Math.floor(bits / 2)) {
    if (bits % 2 === 1) counter.add(schema.columns[i].name, INVALID_UTF8_RULE);
  }
}
