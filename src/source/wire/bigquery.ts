/**
 * The `bigquery-ndjson` wire format (see `WireFormat` in src/sdk/destination.ts): ClickHouse writes the
 * newline-delimited JSON a BigQuery load job takes, with the values the BigQuery plugin's row path sends
 * (plugins/bigquery/schema.ts, `NdjsonEncoder`), so the worker can stream it into load jobs without parsing a row.
 *
 * Each line is built in SQL and written with `TabSeparatedRaw` (one String column, no escaping, `\n` after each row),
 * like the `jsonl` format, with two differences that are BigQuery's:
 * - json columns stored as STRING (`jsonColumns: 'text'`, the plugin's default) are JSON strings holding the text
 *   as it is, valid JSON or not: no json rule applies, nothing is counted;
 * - json columns stored as JSON (`'document'`) are embedded as documents by the `jsonl` rule (line breaks, only
 *   whitespace there, become spaces); a value that is not a document is written as a JSON string and counted
 *   under `invalid_json_as_string`, which the plugin refuses as its row path does (BigQuery JSON needs a document).
 *   A document nested deeper than 1,023 levels is counted too (ClickHouse's parser stops there; JSON.parse does
 *   not, so the row path sends it, and BigQuery's own JSON type refuses nesting beyond 500 levels anyway).
 * Strings and timestamps are JSON strings (`toJSONString`: the same values as JSON.stringify's, with U+2028/U+2029
 * and `/` possibly spelled as escapes), ints and floats JSON numbers, bools `true`/`false`, NULL `null`.
 * Text is valid UTF-8 already (the host's `toValidUTF8`, rule `invalid_utf8`): the row path's other rule, a lone
 * UTF-16 surrogate made U+FFFD (`lone_surrogate`), never applies to text that came from ClickHouse.
 */
import type { ClickHouseSettings } from '@clickhouse/client';
import type { WireFormat } from '../../sdk/destination';
import type { Column, ModelSchema } from '../../sdk/models';
import { jsonLinesSelect, jsonlValue } from '../encoded';

export type BigQueryNdjsonFormat = Extract<WireFormat, { format: 'bigquery-ndjson' }>;

/** True when the format embeds json columns as documents: only then is the invalid-JSON rule counted. */
export function bigQueryNdjsonEmbedsJson(format: WireFormat): boolean {
  return format.format === 'bigquery-ndjson' && format.jsonColumns === 'document';
}

/** Outport's JSON Lines values, but json columns as JSON strings of their text unless the format embeds documents. */
function ndjsonValue(c: Column, format: BigQueryNdjsonFormat): string {
  if (c.type === 'json' && format.jsonColumns === 'text') return `ifNull(toJSONString(${c.name}), 'null')`;
  return jsonlValue(c);
}

/** The SELECT (with FORMAT) and settings writing `rowsSql`'s rows (text already valid UTF-8) as BigQuery NDJSON. */
export function bigQueryNdjsonSelect(rowsSql: string, schema: ModelSchema, format: BigQueryNdjsonFormat): { sql: string; settings: ClickHouseSettings } {
  return jsonLinesSelect(rowsSql, schema, (c) => ndjsonValue(c, format));
}
