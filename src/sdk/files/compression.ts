/**
 * Whole-file compression for JSON Lines, and the codec names Parquet understands (Parquet compresses per page,
 * inside the file, so a Parquet file keeps its `.parquet` name whatever the codec).
 */
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';

export const JSONL_COMPRESSIONS = ['none', 'gzip', 'brotli', 'zstd'] as const;
export type JsonlCompression = (typeof JSONL_COMPRESSIONS)[number];

export const PARQUET_COMPRESSIONS = ['none', 'zstd', 'snappy', 'gzip', 'brotli', 'lz4'] as const;
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];

export type Compression = JsonlCompression | ParquetCompression;

type ZstdZlib = {
  createZstdCompress?: () => Transform;
  zstdDecompressSync?: (buf: Uint8Array) => Buffer;
};

/**
 * zstd for JSON Lines uses Node's own zlib binding, present from Node 22.15. On older Node it is refused at
 * config validation (see `jsonlCompressionProblem`) rather than pulling in a native or wasm dependency: Parquet
 * files can still use zstd on every Node, because parquet-wasm carries its own codec.
 */
export function nodeHasZstd(): boolean {
  return typeof (zlib as unknown as ZstdZlib).createZstdCompress === 'function';
}

/** A human-readable reason why `compression` cannot be used for JSON Lines on this Node, or undefined if it can. */
export function jsonlCompressionProblem(compression: string): string | undefined {
  if (compression === 'zstd' && !nodeHasZstd()) {
    return `zstd compression for JSON Lines needs Node >= 22.15 (this is Node ${process.versions.node}); ` +
      'use gzip or brotli, or the Parquet format (its zstd codec works on every Node)';
  }
  if (!(JSONL_COMPRESSIONS as readonly string[]).includes(compression)) {
    return `JSON Lines supports the compressions ${JSONL_COMPRESSIONS.join(', ')}, not '${compression}'`;
  }
  return undefined;
}

/** File-name suffix added after `.jsonl`. */
export function jsonlCompressionExtension(compression: JsonlCompression): string {
  return { none: '', gzip: '.gz', brotli: '.br', zstd: '.zst' }[compression];
}

/** A streaming compressor for JSON Lines, or undefined for `none`. */
export function createJsonlCompressor(compression: JsonlCompression): Transform | undefined {
  switch (compression) {
    case 'none':
      return undefined;
    case 'gzip':
      return zlib.createGzip({ level: 6 });
    case 'brotli':
      // Quality 5: within a few percent of the default 11's ratio on JSON at a fraction of its CPU cost.
      return zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } });
    case 'zstd': {
      const create = (zlib as unknown as ZstdZlib).createZstdCompress;
      if (!create) throw new Error(jsonlCompressionProblem('zstd'));
      return create();
    }
  }
}

/** Decompresses a whole JSON Lines file (readers and tests; not used on the write path). */
export function decompressJsonl(data: Uint8Array, compression: JsonlCompression): Buffer {
  switch (compression) {
    case 'none':
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    case 'gzip':
      return zlib.gunzipSync(data);
    case 'brotli':
      return zlib.brotliDecompressSync(data);
    case 'zstd': {
      const fn = (zlib as unknown as ZstdZlib).zstdDecompressSync;
      if (!fn) throw new Error(jsonlCompressionProblem('zstd'));
      return fn(data);
    }
  }
}

/** Infers the JSON Lines compression from a file name (`.jsonl.gz` -> gzip). */
export function jsonlCompressionFromName(name: string): JsonlCompression {
  if (name.endsWith('.gz')) return 'gzip';
  if (name.endsWith('.br')) return 'brotli';
  if (name.endsWith('.zst')) return 'zstd';
  return 'none';
}
