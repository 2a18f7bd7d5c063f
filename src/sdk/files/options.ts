/** Config fields shared by file destinations (local directory, S3, third-party object stores). */
import { z } from 'zod';
import { JSONL_COMPRESSIONS, jsonlCompressionExtension, jsonlCompressionProblem, PARQUET_COMPRESSIONS, type JsonlCompression, type ParquetCompression } from './compression';
import { prefixTemplateProblems } from './keys';
import type { FileEncoding } from './run-writer';

export const FILE_FORMATS = ['JSONLines', 'Parquet'] as const;
export type FileFormatName = (typeof FILE_FORMATS)[number];

/** zod fields for format, compression, prefix and file size; spread them into a destination's config object. */
export function fileOutputFields(defaultPrefix = '{table}/{year}/{month}/{day}') {
  return {
    file_format: z.enum(FILE_FORMATS).default('JSONLines')
      .describe('File format: JSONLines (one JSON object per line; json columns embedded as JSON) or Parquet (typed columns; timestamps as TIMESTAMP(MICROS, UTC), ints as INT64, json as UTF8 text).'),
    compression: z.enum([...new Set([...JSONL_COMPRESSIONS, ...PARQUET_COMPRESSIONS])] as [string, ...string[]]).default('gzip')
      .describe('Compression. JSONLines: none, gzip (default, adds .gz), brotli (.br), zstd (.zst, needs Node >= 22.15). Parquet: none, zstd, snappy, gzip, brotli, lz4 (compressed inside the file; the name stays .parquet).'),
    prefix: z.string().max(512).default(defaultPrefix)
      .describe('Folder for each run\'s files, a template filled from the interval start in UTC: {year} {month} {day} {hour} {minute} {second} {data_interval_start} {data_interval_end} {table} {team_id} {export_id}. Must contain {table}. Files are named {prefix}/{start}-{end}[-{n}].{jsonl|parquet}[.gz|.br|.zst] next to {start}-{end}_manifest.json, which is written last and lists them.'),
    max_file_size_mb: z.number().min(0).max(100_000).default(0)
      .describe('Split a run into numbered files (-0, -1, ...) of about this many MB each (a file may exceed it by about one batch). 0 writes one file per run.'),
  };
}

type FileOutputConfig = { file_format: FileFormatName; compression: string; prefix: string };

/** Cross-field checks for `fileOutputFields`; use in the object's `.superRefine`. */
export function checkFileOutput(cfg: FileOutputConfig, ctx: z.RefinementCtx): void {
  for (const message of prefixTemplateProblems(cfg.prefix)) ctx.addIssue({ code: 'custom', path: ['prefix'], message: `prefix ${message}` });
  if (cfg.file_format === 'JSONLines') {
    const problem = jsonlCompressionProblem(cfg.compression);
    if (problem) ctx.addIssue({ code: 'custom', path: ['compression'], message: problem });
  } else if (!(PARQUET_COMPRESSIONS as readonly string[]).includes(cfg.compression)) {
    ctx.addIssue({ code: 'custom', path: ['compression'], message: `Parquet supports the compressions ${PARQUET_COMPRESSIONS.join(', ')}, not '${cfg.compression}'` });
  }
}

export function fileEncodingOf(cfg: FileOutputConfig): FileEncoding {
  return cfg.file_format === 'Parquet'
    ? { format: 'parquet', compression: cfg.compression as ParquetCompression }
    : { format: 'jsonl', compression: cfg.compression as JsonlCompression };
}

export function fileExtensionOf(encoding: FileEncoding): string {
  return encoding.format === 'parquet' ? '.parquet' : '.jsonl' + jsonlCompressionExtension(encoding.compression);
}
