/**
 * Parquet, written with parquet-wasm (Rust's arrow-rs writer compiled to WebAssembly) from Apache Arrow batches.
 *
 * Column types: string -> UTF8, int -> INT64, float -> DOUBLE, bool -> BOOLEAN,
 * timestamp -> TIMESTAMP(MICROS, adjusted to UTC), json -> UTF8 holding the JSON text unchanged.
 * Each incoming batch is converted on its own and the writer flushes a row group every `rowGroupRows` rows or
 * `rowGroupBytes` bytes, so a file of any size is written with memory bounded by one row group.
 * Strings are UTF-8: a lone surrogate (never produced by the source) becomes U+FFFD, counted per column under the
 * rule `lone_surrogate` in `EncodeStats.replacements`. (Invalid UTF-8 from the source was already replaced and counted
 * by the source; Parquet's BYTE_ARRAY could hold it as it was once rows carry bytes rather than JS strings.)
 */
import type * as Arrow from 'apache-arrow';
import type * as ParquetWasm from 'parquet-wasm';
import type { ReadableStreamReadResult } from 'node:stream/web';
import { DestinationError } from '../destination';
import type { Column, ModelSchema, RecordBatch, Row } from '../models';
import type { ParquetCompression } from './compression';
import { wellFormedText, type EncodeStats } from './jsonl';
import { isoToMicros, microsToIso } from './timestamps';

type Libs = { arrow: typeof Arrow; pq: typeof ParquetWasm };
let libs: Promise<Libs> | undefined;

/** Loads apache-arrow and parquet-wasm once, on first use (the wasm module is a few MB). */
export function loadParquetLibs(): Promise<Libs> {
  libs ??= Promise.all([import('apache-arrow'), import('parquet-wasm')]).then(([arrow, pq]) => ({
    arrow: arrow as typeof Arrow,
    pq: pq as typeof ParquetWasm,
  }));
  return libs;
}

export interface ParquetOptions {
  compression: ParquetCompression;
  /** Rows per row group at most. Default 32768 (bounded worker memory matters more than fewer, larger groups). */
  rowGroupRows?: number;
  /** Encoded bytes per row group at most. Default 16 MiB. */
  rowGroupBytes?: number;
}

function arrowType(arrow: typeof Arrow, c: Column): Arrow.DataType {
  switch (c.type) {
    case 'string':
    case 'json':
      return new arrow.Utf8();
    case 'int':
      return new arrow.Int64();
    case 'float':
      return new arrow.Float64();
    case 'bool':
      return new arrow.Bool();
    case 'timestamp':
      return new arrow.TimestampMicrosecond('UTC');
  }
}

export function arrowSchemaFor(arrow: typeof Arrow, schema: ModelSchema): Arrow.Schema {
  return new arrow.Schema(schema.columns.map((c) => new arrow.Field(c.name, arrowType(arrow, c), c.nullable)));
}

/** A row that does not match its schema is a bug upstream, not a passing fault: retrying cannot help. */
function badValue(c: Column, value: unknown, why: string): DestinationError {
  return new DestinationError('permanent', `column ${c.name} (${c.type}): ${why}: ${JSON.stringify(value)?.slice(0, 64)}`, { code: 'BAD_VALUE' });
}

function int64Data(arrow: typeof Arrow, type: Arrow.DataType, c: Column, rows: Row[]): Arrow.Data {
  const n = rows.length;
  const values = new BigInt64Array(n);
  const validity = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = rows[i][c.name];
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    validity[i >> 3] |= 1 << (i & 7);
    if (c.type === 'timestamp') {
      if (typeof v !== 'string') throw badValue(c, v, 'expected an ISO timestamp string');
      try {
        values[i] = isoToMicros(v);
      } catch {
        throw badValue(c, v, 'expected an ISO timestamp string');
      }
    } else {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw badValue(c, v, 'expected an integer');
      values[i] = BigInt(v);
    }
  }
  return arrow.makeData({ type: type as Arrow.Int64, length: n, nullCount: nulls, data: values, nullBitmap: nulls ? validity : undefined });
}

function columnData(arrow: typeof Arrow, type: Arrow.DataType, c: Column, rows: Row[], stats?: EncodeStats): Arrow.Data {
  if (c.type === 'int' || c.type === 'timestamp') return int64Data(arrow, type, c, rows);
  const text = stats && (c.type === 'string' || c.type === 'json');
  const values = rows.map((r) => {
    const v = r[c.name];
    if (v === undefined) return null;
    return text && typeof v === 'string' ? wellFormedText(v, c.name, stats) : v;
  });
  return arrow.vectorFromArray(values as never[], type).data[0];
}

/** Converts one batch of rows to an Arrow IPC stream (what parquet-wasm accepts). */
export function rowsToArrowIpc(arrow: typeof Arrow, schema: ModelSchema, arrowSchema: Arrow.Schema, rows: Row[], stats?: EncodeStats): Uint8Array {
  const children = schema.columns.map((c, i) => columnData(arrow, arrowSchema.fields[i].type, c, rows, stats));
  const struct = arrow.makeData({ type: new arrow.Struct(arrowSchema.fields), length: rows.length, nullCount: 0, children });
  return arrow.tableToIPC(new arrow.Table(new arrow.RecordBatch(arrowSchema, struct)), 'stream');
}

function codec(pq: typeof ParquetWasm, c: ParquetCompression): ParquetWasm.Compression {
  switch (c) {
    case 'none':
      return pq.Compression.UNCOMPRESSED;
    case 'zstd':
      return pq.Compression.ZSTD;
    case 'snappy':
      return pq.Compression.SNAPPY;
    case 'gzip':
      return pq.Compression.GZIP;
    case 'brotli':
      return pq.Compression.BROTLI;
    case 'lz4':
      // LZ4_RAW: the plain "LZ4" codec is deprecated and read inconsistently across engines.
      return pq.Compression.LZ4_RAW;
  }
}

/** Encodes batches to one Parquet file's bytes, streamed a row group at a time. */
export async function* encodeParquet(
  batches: AsyncIterable<RecordBatch>,
  schema: ModelSchema,
  options: ParquetOptions,
  stats: EncodeStats,
): AsyncGenerator<Uint8Array> {
  const { arrow, pq } = await loadParquetLibs();
  const arrowSchema = arrowSchemaFor(arrow, schema);
  const source = batches[Symbol.asyncIterator]();
  let failure: unknown;
  const input = new ReadableStream<ParquetWasm.RecordBatch>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const next = await source.next();
            if (next.done) return controller.close();
            if (next.value.rows.length === 0) continue;
            const table = pq.Table.fromIPCStream(rowsToArrowIpc(arrow, schema, arrowSchema, next.value.rows, stats));
            stats.rows += next.value.rows.length;
            for (const rb of table.recordBatches()) controller.enqueue(rb);
            table.free();
            return;
          }
        } catch (err) {
          failure = err;
          controller.error(err);
        }
      },
      async cancel() {
        await source.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  const props = new pq.WriterPropertiesBuilder()
    .setCompression(codec(pq, options.compression))
    .setMaxRowGroupSize(options.rowGroupRows ?? 32_768)
    .setMaxRowGroupBytes(options.rowGroupBytes ?? 16 * 1024 * 1024)
    .setCreatedBy('outport')
    .build();
  let output: ReadableStream<Uint8Array>;
  try {
    output = await pq.transformParquetStream(input, props);
  } catch (err) {
    // The writer reports a failed input as its own opaque error: surface the original one.
    throw failure ?? err;
  }
  const reader = output.getReader();
  let finished = false;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw failure ?? err;
      }
      if (chunk.done) break;
      yield chunk.value;
    }
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Reads a whole Parquet file written by `encodeParquet` back into Rows (readers and tests). */
export async function decodeParquet(data: Uint8Array, schema: ModelSchema): Promise<Row[]> {
  const { arrow, pq } = await loadParquetLibs();
  const table = arrow.tableFromIPC(pq.readParquet(data).intoIPCStream());
  const rows: Row[] = Array.from({ length: table.numRows }, () => ({}));
  for (const c of schema.columns) {
    const vector = table.getChild(c.name);
    if (!vector) throw new Error(`Parquet file has no column ${c.name}`);
    let i = 0;
    for (const data of vector.data) {
      for (let j = 0; j < data.length; j++, i++) {
        if (!data.getValid(j)) {
          rows[i][c.name] = null;
          continue;
        }
        if (c.type === 'timestamp') {
          rows[i][c.name] = microsToIso(BigInt((data.values as BigInt64Array)[data.offset + j]));
        } else if (c.type === 'int') {
          rows[i][c.name] = Number((data.values as BigInt64Array)[data.offset + j]);
        } else {
          rows[i][c.name] = vector.get(i) as string | number | boolean;
        }
      }
    }
  }
  return rows;
}

/** Row-group count and per-column physical facts of a Parquet file (for tests and diagnostics). */
export async function parquetFileInfo(data: Uint8Array): Promise<{ rows: number; rowGroups: number; compression: string[] }> {
  const { pq } = await loadParquetLibs();
  const file = await pq.ParquetFile.fromFile(new Blob([data]));
  const meta = file.metadata();
  const groups = meta.rowGroups();
  const compression = groups.length ? groups[0].columns().map((col) => pq.Compression[col.compression()]) : [];
  return { rows: meta.fileMetadata().numRows(), rowGroups: meta.numRowGroups(), compression };
}

/**
 * The row count in a Parquet file's footer, from the file's last bytes only (at least the footer and the 8 bytes
 * after it): how a stream of Parquet bytes is counted without holding the file. Reads `FileMetaData.num_rows`
 * (Thrift compact protocol, field 3) and skips everything before it.
 */
export function parquetFooterRows(tail: Uint8Array): number {
  const n = tail.byteLength;
  const magic = (at: number) => at >= 0 && tail[at] === 0x50 && tail[at + 1] === 0x41 && tail[at + 2] === 0x52 && tail[at + 3] === 0x31;
  if (n < 12 || !magic(n - 4)) throw new Error('not a complete Parquet file: it does not end with PAR1 (the stream was cut short)');
  const footerLength = tail[n - 8] | (tail[n - 7] << 8) | (tail[n - 6] << 16) | (tail[n - 5] << 24);
  if (footerLength < 0 || footerLength + 8 > n) throw new Error(`the Parquet footer (${footerLength} bytes) is larger than the tail kept to read it (${n} bytes)`);
  const r = new ThriftCompactReader(tail.subarray(n - 8 - footerLength, n - 8));
  let fieldId = 0;
  for (;;) {
    const header = r.byte();
    const type = header & 0x0f;
    if (type === 0) break;
    const delta = header >> 4;
    fieldId = delta ? fieldId + delta : r.zigzag();
    if (fieldId === 3 && type === 6) return Number(r.zigzagBig());
    r.skip(type);
  }
  throw new Error('the Parquet footer has no row count');
}

/** Just enough of Thrift's compact protocol to skip fields of any type. */
class ThriftCompactReader {
  private at = 0;
  constructor(private readonly buf: Uint8Array) {}
  byte(): number {
    if (this.at >= this.buf.byteLength) throw new Error('the Parquet footer ends early');
    return this.buf[this.at++];
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }
  zigzagBig(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }
  zigzag(): number {
    return Number(this.zigzagBig());
  }
  skip(type: number): void {
    switch (type) {
      case 1:
      case 2:
        return; // booleans live in the field header
      case 3:
        this.at += 1;
        return;
      case 4:
      case 5:
      case 6:
        this.varint();
        return;
      case 7:
        this.at += 8;
        return;
      case 8: {
        const length = Number(this.varint()); // read before `at` is: the varint advances it
        this.at += length;
        return;
      }
      case 9:
      case 10: {
        const header = this.byte();
        const size = header >> 4 === 15 ? Number(this.varint()) : header >> 4;
        const element = header & 0x0f;
        for (let i = 0; i < size; i++) {
          if (element === 1 || element === 2) this.at += 1;
          else this.skip(element);
        }
        return;
      }
      case 11: {
        const size = Number(this.varint());
        if (size === 0) return;
        const types = this.byte();
        for (let i = 0; i < size; i++) {
          this.skipValue(types >> 4);
          this.skipValue(types & 0x0f);
        }
        return;
      }
      case 12: {
        for (;;) {
          const header = this.byte();
          if ((header & 0x0f) === 0) return;
          if (!(header >> 4)) this.varint();
          this.skip(header & 0x0f);
        }
      }
      default:
        throw new Error(`the Parquet footer holds an unknown Thrift type ${type}`);
    }
  }
  private skipValue(type: number): void {
    if (type === 1 || type === 2) this.at += 1;
    else this.skip(type);
  }
}
