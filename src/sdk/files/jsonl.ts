/**
 * JSON Lines: one JSON object per row, keys in schema order, `\n` after every row.
 *
 * Rules (documented for readers of the files):
 * - json columns are embedded as JSON values, not strings. The source text is kept as it is (numbers keep every
 *   digit), except that line breaks between tokens are turned into spaces so a document never spans two lines.
 * - A json column whose text is not valid JSON is embedded as a JSON string holding the text (rule
 *   `invalid_json_as_string`), counted in `EncodeStats.invalidJson` and, per column, in `EncodeStats.replacements`.
 * - A json column's text holding an unpaired UTF-16 surrogate as a raw character (not as a `\uD800` escape, which
 *   is kept) has it replaced with U+FFFD (rule `lone_surrogate`, counted): UTF-8 cannot encode it. String
 *   columns need no rule: JSON.stringify writes a lone surrogate as an escape.
 * - JSON `null` in a json column and SQL NULL are both written as `null`.
 * - timestamps stay ISO-8601 strings with microseconds; ints and floats are JSON numbers.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ModelSchema, RecordBatch, Row, Value } from '../models';
import { createJsonlCompressor, decompressJsonl, type JsonlCompression } from './compression';
import { ReplacementCounter } from '../replacements';

/** Counters an encoder fills in while it runs. */
export interface EncodeStats {
  rows: number;
  /** json-column values whose text was not valid JSON (embedded as strings). */
  invalidJson: number;
  /** Values changed by a documented rule, per column and rule (give `list()` to `WriteResult.replacements`). */
  replacements: ReplacementCounter;
}

export function newEncodeStats(): EncodeStats {
  return { rows: 0, invalidJson: 0, replacements: new ReplacementCounter() };
}

type MaybeWellFormed = string & { isWellFormed?(): boolean };
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/** Native on Node 20+; the regex fallback is only for older runtimes. */
export function isWellFormedText(s: string): boolean {
  const f = (s as MaybeWellFormed).isWellFormed;
  return f ? f.call(s) : !/[\uD800-\uDFFF]/u.test(s);
}

/** `s` with each unpaired surrogate replaced by U+FFFD, counted once for the value under `lone_surrogate`. */
export function wellFormedText(s: string, column: string, stats: EncodeStats): string {
  if (isWellFormedText(s)) return s;
  stats.replacements.add(column, 'lone_surrogate');
  return s.replace(LONE_SURROGATES, '\uFFFD');
}

const LINE_BREAKS = /[\r\n]/g;

function jsonValueText(raw: string, column: string, stats: EncodeStats): string {
  try {
    JSON.parse(raw);
  } catch {
    stats.invalidJson++;
    stats.replacements.add(column, 'invalid_json_as_string');
    return JSON.stringify(raw);
  }
  const text = wellFormedText(raw, column, stats);
  // Raw CR/LF cannot occur inside JSON strings, so any found are insignificant whitespace.
  return text.includes('\n') || text.includes('\r') ? text.replace(LINE_BREAKS, ' ') : text;
}

/** Builds the encoder for one row: a function returning the row's line (without the trailing `\n`). */
export function jsonlRowEncoder(schema: ModelSchema, stats: EncodeStats): (row: Row) => string {
  const cols = schema.columns.map((c) => ({ name: c.name, prefix: JSON.stringify(c.name) + ':', json: c.type === 'json' }));
  return (row) => {
    let line = '{';
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i];
      const v = row[c.name];
      let text: string;
      if (v === null || v === undefined) text = 'null';
      else if (c.json && typeof v === 'string') text = jsonValueText(v, c.name, stats);
      else text = JSON.stringify(v);
      line += (i === 0 ? '' : ',') + c.prefix + text;
    }
    return line + '}';
  };
}

/** Encodes batches to (optionally compressed) JSON Lines bytes, one chunk at a time. */
export async function* encodeJsonl(
  batches: AsyncIterable<RecordBatch>,
  schema: ModelSchema,
  compression: JsonlCompression,
  stats: EncodeStats,
): AsyncGenerator<Uint8Array> {
  const encodeRow = jsonlRowEncoder(schema, stats);
  async function* plain(): AsyncGenerator<Buffer> {
    for await (const batch of batches) {
      if (batch.rows.length === 0) continue;
      let text = '';
      for (const row of batch.rows) text += encodeRow(row) + '\n';
      stats.rows += batch.rows.length;
      yield Buffer.from(text, 'utf8');
    }
  }
  const compressor = createJsonlCompressor(compression);
  if (!compressor) {
    yield* plain();
    return;
  }
  const piping = pipeline(Readable.from(plain(), { objectMode: false }), compressor);
  // If the consumer stops early, the compressor is destroyed and `piping` rejects: swallow that here only.
  piping.catch(() => undefined);
  try {
    for await (const chunk of compressor) yield chunk as Buffer;
    await piping;
  } finally {
    if (!compressor.destroyed) compressor.destroy();
  }
}

/**
 * Parses a JSON Lines file written by `encodeJsonl` back into Rows (json columns back to JSON text, via
 * `JSON.stringify`; so compare them parsed).
 */
export function decodeJsonl(data: Uint8Array, schema: ModelSchema, compression: JsonlCompression = 'none'): Row[] {
  const text = decompressJsonl(data, compression).toString('utf8');
  const rows: Row[] = [];
  let start = 0;
  let lineNo = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      throw new Error(`JSON Lines line ${lineNo} is not valid JSON: ${(err as Error).message}`);
    }
    const row: Row = {};
    for (const c of schema.columns) {
      const v = obj[c.name];
      if (v === undefined || v === null) row[c.name] = null;
      else if (c.type === 'json') row[c.name] = JSON.stringify(v);
      else row[c.name] = v as Value;
    }
    rows.push(row);
  }
  return rows;
}
