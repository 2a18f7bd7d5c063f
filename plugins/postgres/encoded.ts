/**
 * The byte path's COPY inputs (see `WireFormat` 'pgcopy' in the SDK): ClickHouse writes the COPY text the row path's
 * encoder writes, and the bytes are piped into COPY as they arrive. The only rows Node touches are the flagged
 * ones (a NUL byte, then a JSON array of the row's fields: json that may be too deep or hold a number outside
 * Postgres numeric), found with one native search per chunk and encoded by the row path's `encodeValue` and this
 * run's Sanitizer, which also counts their replacements (the host counts the other rows' in SQL).
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KEY_SLICES, type Column, type EncodedPart, type EncodedRun, type KeySlice } from '../../src/sdk';
import { encodeValue } from './copy';
import type { CopyInput } from './load';
import type { Sanitizer } from './sanitize';

const FLAGGED_ROW_MARKER = 0x00;
const NEWLINE = 0x0a;

/** The COPY text of one flagged line (without its marker and newline). */
function encodeFlagged(line: Buffer, columns: readonly Column[], sanitizer: Sanitizer): Buffer {
  const fields = JSON.parse(line.toString('utf8')) as (string | null)[];
  if (!Array.isArray(fields) || fields.length !== columns.length) {
    throw new Error(`a flagged pgcopy row holds ${Array.isArray(fields) ? fields.length : 'no'} fields, the model has ${columns.length}`);
  }
  // Text and json columns carry their values; the others carry their COPY field already.
  const text = columns.map((c, i) => (c.type === 'string' || c.type === 'json' ? encodeValue(c, fields[i], sanitizer) : (fields[i] ?? '\\N')));
  return Buffer.from(text.join('\t') + '\n', 'utf8');
}

/** `chunks` with every flagged line replaced by its COPY text; a line may span chunks. */
export async function* copyTextChunks(chunks: AsyncIterable<Uint8Array>, columns: readonly Column[], sanitizer: Sanitizer): AsyncGenerator<Buffer> {
  let flagged: Buffer[] | undefined;
  for await (const bytes of chunks) {
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let from = 0;
    while (from < chunk.length) {
      if (flagged) {
        const end = chunk.indexOf(NEWLINE, from);
        if (end === -1) {
          flagged.push(chunk.subarray(from));
          break;
        }
        flagged.push(chunk.subarray(from, end));
        yield encodeFlagged(Buffer.concat(flagged), columns, sanitizer);
        flagged = undefined;
        from = end + 1;
        continue;
      }
      const marker = chunk.indexOf(FLAGGED_ROW_MARKER, from);
      if (marker === -1) {
        yield from === 0 ? chunk : chunk.subarray(from);
        break;
      }
      if (marker > from) yield chunk.subarray(from, marker);
      flagged = [];
      from = marker + 1;
    }
  }
  if (flagged) throw new Error('the pgcopy stream ended inside a flagged row');
}

export interface StreamedTotals {
  rows: number;
  bytes: number;
}

/**
 * One COPY input per slice: each opens its ClickHouse stream once its COPY session is ready, pipes it with
 * back-pressure, and adds the rows and bytes the stream carried (`EncodedPart.finished()`) to `totals`.
 */
export function encodedInputs(o: {
  run: EncodedRun;
  slices: readonly (KeySlice | undefined)[];
  columns: readonly Column[];
  sanitizer: Sanitizer;
  signal: AbortSignal;
  onChunk(rows: number, bytes: number): void;
}): { inputs: CopyInput[]; totals: StreamedTotals } {
  const totals: StreamedTotals = { rows: 0, bytes: 0 };
  const inputs = o.slices.map((slice): CopyInput => async (copy: Writable) => {
    const part: EncodedPart = await o.run.open(slice);
    const onChunk = o.onChunk;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of copyTextChunks(part.chunks, o.columns, o.sanitizer)) {
        let lines = 0;
        for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) lines++;
        onChunk(lines, chunk.length);
        yield chunk;
      }
    }
    await pipeline(Readable.from(counted(), { objectMode: false }), copy, { signal: o.signal });
    const done = await part.finished();
    totals.rows += done.rows;
    totals.bytes += done.bytes;
  });
  return { inputs, totals };
}

/**
 * `count` slices of the run holding about equal rows (by the exact rows per 1/KEY_SLICES of the key's hash), or
 * the whole run as one.
 */
export async function evenSlices(run: EncodedRun, count: number): Promise<(KeySlice | undefined)[]> {
  if (count <= 1) return [undefined];
  const stats = await run.stats();
  const slices: KeySlice[] = [];
  let from = 0;
  for (let k = 1; k <= count && from < KEY_SLICES; k++) {
    const target = (stats.rows * k) / count;
    let to = k === count ? KEY_SLICES : from + 1;
    while (to < KEY_SLICES && stats.rowsIn({ from: 0, to }) < target) to++;
    slices.push({ from, to });
    from = to;
  }
  return slices;
}
