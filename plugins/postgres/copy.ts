/**
 * Encodes a run's batches as COPY text (text format). Memory stays bounded: the source is pulled one batch at a
 * time, only when the COPY stream has drained (stream backpressure), and rows are sent in chunks of about
 * CHUNK_BYTES.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Column, RecordBatch, Row, Value } from '../../src/sdk';
import type { Sanitizer } from './sanitize';

const CHUNK_BYTES = 256 * 1024;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const COPY_SPECIAL = /[\\\n\r\t]/g;
const COPY_SPECIAL_TEST = /[\\\n\r\t]/;

/** COPY text format: backslash, tab (the delimiter), newline and carriage return are escaped; `\N` is NULL. */
export function copyEscape(s: string): string {
  return COPY_SPECIAL_TEST.test(s) ? s.replace(COPY_SPECIAL, (ch) => COPY_ESCAPES[ch]) : s;
}

export function encodeValue(column: Column, value: Value | undefined, sanitizer: Sanitizer): string {
  if (value === null || value === undefined) return '\\N';
  switch (column.type) {
    case 'string':
      return copyEscape(sanitizer.text(String(value), column.name));
    case 'json':
      return copyEscape(sanitizer.json(String(value), column.name));
    case 'bool':
      return value === true || value === 't' || value === 'true' ? 't' : 'f';
    case 'int':
    case 'float':
      // String(NaN) / String(Infinity) are spelled the way Postgres reads them for DOUBLE PRECISION.
      return String(value);
    case 'timestamp':
      return copyEscape(String(value));
  }
}

export function encodeRow(row: Row, columns: readonly Column[], sanitizer: Sanitizer): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) line += '\t';
    line += encodeValue(columns[i], row[columns[i].name], sanitizer);
  }
  return line + '\n';
}

export interface EncodedRows {
  rows: number;
  bytes: number;
}

/**
 * The row path's COPY input (see load.ts `CopyInput`): encodes the run's batches into `copy` and ends it.
 * `encoded` is filled as rows pass, so the caller reads the totals once the COPY has finished.
 */
export function rowEncoderInput(opts: {
  columns: readonly Column[];
  batches: AsyncIterable<RecordBatch>;
  sanitizer: Sanitizer;
  signal: AbortSignal;
  onBatch(rows: number, bytes: number): void;
}): { input: (copy: Writable) => Promise<void>; encoded: EncodedRows } {
  const { columns, sanitizer } = opts;
  const encoded: EncodedRows = { rows: 0, bytes: 0 };

  async function* chunks(): AsyncGenerator<Buffer> {
    let pending = '';
    for await (const batch of opts.batches) {
      opts.signal.throwIfAborted();
      let batchBytes = 0;
      for (const row of batch.rows) {
        pending += encodeRow(row, columns, sanitizer);
        if (pending.length >= CHUNK_BYTES) {
          const buf = Buffer.from(pending, 'utf8');
          batchBytes += buf.length;
          pending = '';
          yield buf;
        }
      }
      encoded.rows += batch.rows.length;
      encoded.bytes += batchBytes;
      opts.onBatch(batch.rows.length, batchBytes);
    }
    if (pending) {
      const buf = Buffer.from(pending, 'utf8');
      encoded.bytes += buf.length;
      opts.onBatch(0, buf.length);
      yield buf;
    }
  }

  const input = (copy: Writable) =>
    pipeline(Readable.from(chunks(), { objectMode: false, highWaterMark: 4 * CHUNK_BYTES }), copy, { signal: opts.signal });
  return { input, encoded };
}
