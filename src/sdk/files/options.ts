/** Config fields shared by file destinations (local directory, S3, third-party object stores). */
import { z } from 'zod';
import type { EncodedRun, RunContext, WireFormat, WriteResult } from '../destination';
import type { RecordBatch } from '../models';
import { JSONL_COMPRESSIONS, jsonlCompressionExtension, jsonlCompressionProblem, PARQUET_COMPRESSIONS, type JsonlCompression, type ParquetCompression } from './compression';
import { prefixTemplateProblems, renderPrefix, runLayout, type KeyStyle } from './keys';
import { writeEncodedRunFiles, writeRunFiles, type FileEncoding } from './run-writer';
import type { FileStore } from './store';

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
      .describe('Folder for each run\'s files, a template filled from the interval start in UTC: {year} {month} {day} {hour} {minute} {second} {data_interval_start} {data_interval_end} {table} {team_id} {export_id} (for an export in layout POSTHOG: filled from the interval end, interval bounds and file names as ISO 8601 with +00:00, as PostHog does). Each export\'s files always go in its own folder below it: {prefix}/export_id={export id}/{start}-{end}[-{n}].{jsonl|parquet}[.gz|.br|.zst], next to {start}-{end}_manifest.json, which is written last and lists them; so several exports can share one destination without touching each other\'s files.'),
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

const keyStyleOf = (ctx: RunContext): KeyStyle => (ctx.layout === 'POSTHOG' ? 'posthog' : 'outport');

/** The parsed settings of `fileOutputFields`. */
export type FileOutputSettings = FileOutputConfig & { max_file_size_mb: number };

/** The wire format a file destination asks ClickHouse for (byte path): exactly its files' format and codec. */
export function wireFormatOf(cfg: FileOutputConfig): WireFormat {
  return fileEncodingOf(cfg);
}

/**
 * A file destination's whole `writeEncoded`, once it has a store: `writeConfiguredRun` on the byte path (same
 * names, layout, manifest and exactly-once steps; see `writeEncodedRunFiles`).
 */
export async function writeConfiguredEncodedRun(
  store: FileStore,
  config: FileOutputSettings,
  ctx: RunContext,
  encoded: EncodedRun,
  where: Record<string, unknown>,
): Promise<WriteResult> {
  const encoding = fileEncodingOf(config);
  const style = keyStyleOf(ctx);
  const prefix = renderPrefix(config.prefix, { model: ctx.model, interval: ctx.interval, teamId: ctx.teamId, exportId: ctx.exportId, style });
  const layout = runLayout(prefix, ctx.interval, fileExtensionOf(encoding), config.max_file_size_mb > 0, ctx.exportId, style);
  const { manifest, manifestKey, staleDeleted } = await writeEncodedRunFiles({
    store, layout, encoding, encoded, schema: ctx.schema,
    maxFileBytes: config.max_file_size_mb * 1024 * 1024,
    run: { runId: ctx.runId, attempt: ctx.attempt, interval: ctx.interval },
    signal: ctx.signal,
    progress: (u) => ctx.progress(u),
  });
  return {
    rowsLanded: manifest.rows,
    bytesWritten: manifest.bytes,
    details: { ...where, files: manifest.files.map((f) => f.key), manifest: manifestKey, staleDeleted, invalidJsonValues: manifest.invalid_json_values, path: 'bytes' },
  };
}

/**
 * A file destination's whole `write`, once it has a store: the run's files under the prefix template filled from
 * `ctx`, in the export's own folder (`export_id=…`), one file or numbered parts as `max_file_size_mb` says, stale files of the interval deleted, the manifest
 * last. Values changed by the encoders' rules are returned as `replacements` (the host logs them). `where` leads the
 * result's details (e.g. `{ bucket }`); the destination classifies what this throws.
 */
export async function writeConfiguredRun(
  store: FileStore,
  config: FileOutputSettings,
  ctx: RunContext,
  batches: AsyncIterable<RecordBatch>,
  where: Record<string, unknown>,
): Promise<WriteResult> {
  const encoding = fileEncodingOf(config);
  const style = keyStyleOf(ctx);
  const prefix = renderPrefix(config.prefix, { model: ctx.model, interval: ctx.interval, teamId: ctx.teamId, exportId: ctx.exportId, style });
  const layout = runLayout(prefix, ctx.interval, fileExtensionOf(encoding), config.max_file_size_mb > 0, ctx.exportId, style);
  const { manifest, manifestKey, staleDeleted, replacements } = await writeRunFiles({
    store, layout, encoding, batches, schema: ctx.schema,
    maxFileBytes: config.max_file_size_mb * 1024 * 1024,
    run: { runId: ctx.runId, attempt: ctx.attempt, interval: ctx.interval },
    signal: ctx.signal,
    progress: (u) => ctx.progress(u),
  });
  return {
    rowsLanded: manifest.rows,
    bytesWritten: manifest.bytes,
    details: { ...where, files: manifest.files.map((f) => f.key), manifest: manifestKey, staleDeleted, invalidJsonValues: manifest.invalid_json_values },
    replacements,
  };
}
