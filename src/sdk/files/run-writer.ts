/**
 * Writes one run as files, exactly once per run:
 * 1. delete the run's manifest, so readers see the run as incomplete while it is rewritten;
 * 2. stream the batches into files with deterministic names (overwriting an earlier attempt's), starting a new
 *    numbered file when the current one reaches `maxFileBytes` (checked between batches, so a file may exceed it
 *    by about one batch);
 * 3. delete files of this run that this attempt did not write (an earlier attempt's extra parts, another format,
 *    temporary files of a crashed attempt). "This run" is this export over this interval: only keys under the
 *    layout's `base`, which carries the export's own folder (see keys.ts), so another export's files, or another
 *    destination's on the same folder or bucket, are never candidates;
 * 4. write the manifest last. A run is complete exactly when its manifest exists; the manifest lists its files.
 *
 * A worker presumed dead that comes back after another worker took its run over must not undo the newer
 * attempt. Each attempt first records itself in `{base}_attempt.json` (run id and attempt), and checks that record
 * again before closing each file, before deleting stale files and before writing the manifest: an attempt that
 * finds a later attempt of the same run there stops without touching anything more (a `permanent` error nobody
 * sees: the host ignores a superseded attempt). Only a file being closed at the very moment of the takeover can
 * still race, and the manifest's byte counts expose it to readers.
 *
 * Mutable models (persons, sessions): each file holds the rows changed in its interval, a snapshot per interval.
 * Readers merge across intervals by the model's key, keeping the row with the greatest version columns
 * (`mergeLatestVersions`); the manifest's `written_at` orders runs.
 */
import type { Model, ModelSchema, RecordBatch } from '../models';
import type { JsonlCompression, ParquetCompression } from './compression';
import { encodeJsonl, newEncodeStats, type EncodeStats } from './jsonl';
import { DestinationError, KEY_SLICES, type EncodedRun, type KeySlice } from '../destination';
import type { RunLayout } from './keys';
import type { Replacement } from '../replacements';
import { encodeParquet } from './parquet';
import type { FileStore } from './store';

export type FileEncoding =
  | { format: 'jsonl'; compression: JsonlCompression }
  | { format: 'parquet'; compression: ParquetCompression };

export interface ManifestFile {
  key: string;
  rows: number;
  bytes: number;
}

/** The JSON document written last at `RunLayout.manifestKey`. */
export interface RunManifest {
  version: 1;
  model: Model;
  /** The export the run belongs to; a reader of one export keeps the manifests carrying its id. */
  export_id: string;
  data_interval_start: string;
  data_interval_end: string;
  run_id: string;
  attempt: number;
  format: 'jsonl' | 'parquet';
  compression: string;
  files: ManifestFile[];
  rows: number;
  bytes: number;
  /** json values whose text was not valid JSON, embedded as strings (JSON Lines only). */
  invalid_json_values: number;
  written_at: string;
}

export interface WriteRunOptions {
  store: FileStore;
  layout: RunLayout;
  schema: ModelSchema;
  encoding: FileEncoding;
  batches: AsyncIterable<RecordBatch>;
  /** Start a new file once the current one holds this many bytes. Ignored unless `layout.numbered`. */
  maxFileBytes?: number;
  run: { runId: string; attempt: number; interval: { start: Date; end: Date } };
  signal?: AbortSignal;
  progress?(update: { rows?: number; bytes?: number }): void;
}

export interface WriteRunOutcome {
  manifest: RunManifest;
  manifestKey: string;
  staleDeleted: string[];
  /** Values the encoder changed by a documented rule, per column and rule (for `WriteResult.replacements`). */
  replacements: Replacement[];
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
}

function encoderFor(encoding: FileEncoding, schema: ModelSchema, maxFileBytes: number | undefined) {
  return (batches: AsyncIterable<RecordBatch>, stats: EncodeStats) =>
    encoding.format === 'jsonl'
      ? encodeJsonl(batches, schema, encoding.compression, stats)
      : encodeParquet(batches, schema, {
          compression: encoding.compression,
          // A row group is emitted whole, so keep it below the file limit for the split to track the limit.
          rowGroupBytes: Math.min(16 * 1024 * 1024, maxFileBytes ?? Infinity),
        }, stats);
}

interface AttemptRecord {
  run_id: string;
  attempt: number;
  started_at: string;
}

async function throwIfSuperseded(store: FileStore, layout: RunLayout, run: WriteRunOptions['run']): Promise<void> {
  const body = await store.get(layout.attemptKey);
  if (!body) return;
  let current: Partial<AttemptRecord>;
  try {
    current = JSON.parse(Buffer.from(body).toString('utf8')) as Partial<AttemptRecord>;
  } catch {
    return;
  }
  if (current.run_id === run.runId && typeof current.attempt === 'number' && current.attempt > run.attempt) {
    throw new DestinationError('permanent', `Attempt ${run.attempt} of run ${run.runId} was superseded by attempt ${current.attempt} (the run was taken over); this attempt stops without touching the run's files.`, { code: 'SUPERSEDED' });
  }
}

export async function writeRunFiles(o: WriteRunOptions): Promise<WriteRunOutcome> {
  const { store, layout, signal } = o;
  const maxFileBytes = layout.numbered && o.maxFileBytes && o.maxFileBytes > 0 ? o.maxFileBytes : undefined;
  const encode = encoderFor(o.encoding, o.schema, maxFileBytes);
  await beginAttempt(o);

  const source = o.batches[Symbol.asyncIterator]();
  let peeked: RecordBatch | undefined;
  let exhausted = false;
  const nextNonEmpty = async (): Promise<RecordBatch | undefined> => {
    while (!exhausted) {
      throwIfAborted(signal);
      const r = await source.next();
      if (r.done) exhausted = true;
      else if (r.value.rows.length > 0) return r.value;
    }
    return undefined;
  };

  const files: ManifestFile[] = [];
  const stats = newEncodeStats();
  try {
    peeked = await nextNonEmpty();
    while (peeked) {
      const key = layout.fileKey(files.length);
      let fileBytes = 0;
      const rowsBefore = stats.rows;
      async function* fileBatches(): AsyncGenerator<RecordBatch> {
        let first = true;
        while (peeked) {
          if (!first && maxFileBytes !== undefined && fileBytes >= maxFileBytes) return;
          const batch = peeked;
          peeked = undefined;
          yield batch;
          first = false;
          o.progress?.({ rows: batch.rows.length });
          peeked = await nextNonEmpty();
        }
      }
      const sink = await store.create(key);
      try {
        for await (const chunk of encode(fileBatches(), stats)) {
          throwIfAborted(signal);
          fileBytes += chunk.byteLength;
          await sink.write(chunk);
          o.progress?.({ bytes: chunk.byteLength });
        }
        throwIfAborted(signal);
        await throwIfSuperseded(store, layout, o.run);
        await sink.close();
      } catch (err) {
        await sink.abort(err);
        throw err;
      }
      files.push({ key, rows: stats.rows - rowsBefore, bytes: fileBytes });
    }
  } finally {
    if (!exhausted) await source.return?.().catch(() => undefined);
  }

  const { manifest, staleDeleted } = await finishAttempt(o, files, stats.invalidJson);
  return { manifest, manifestKey: layout.manifestKey, staleDeleted, replacements: stats.replacements.list() };
}

/** Step 1 (see the top): records the attempt, refusing to start under a later one, and hides the run's manifest. */
async function beginAttempt(o: Pick<WriteRunOptions, 'store' | 'layout' | 'run'>): Promise<void> {
  const { store, layout } = o;
  await throwIfSuperseded(store, layout, o.run);
  const record: AttemptRecord = { run_id: o.run.runId, attempt: o.run.attempt, started_at: new Date().toISOString() };
  await store.put(layout.attemptKey, Buffer.from(JSON.stringify(record) + '\n'), 'application/json');
  await store.delete([layout.manifestKey]);
}

/** Steps 3 and 4: deletes the run's files this attempt did not write, then writes the manifest. */
async function finishAttempt(
  o: Pick<WriteRunOptions, 'store' | 'layout' | 'run' | 'schema' | 'encoding' | 'signal'>,
  files: ManifestFile[],
  invalidJson: number,
): Promise<{ manifest: RunManifest; staleDeleted: string[] }> {
  const { store, layout, signal } = o;
  throwIfAborted(signal);
  await throwIfSuperseded(store, layout, o.run);
  const written = new Set(files.map((f) => f.key));
  const stale = (await store.list(layout.base)).filter((k) => layout.ownsKey(k) && !written.has(k));
  await store.delete(stale);

  const manifest: RunManifest = {
    version: 1,
    model: o.schema.model,
    export_id: layout.exportId,
    data_interval_start: o.run.interval.start.toISOString(),
    data_interval_end: o.run.interval.end.toISOString(),
    run_id: o.run.runId,
    attempt: o.run.attempt,
    format: o.encoding.format,
    compression: o.encoding.compression,
    files,
    rows: files.reduce((n, f) => n + f.rows, 0),
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    invalid_json_values: invalidJson,
    written_at: new Date().toISOString(),
  };
  throwIfAborted(signal);
  await throwIfSuperseded(store, layout, o.run);
  await store.put(layout.manifestKey, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), 'application/json');
  return { manifest, staleDeleted: stale };
}

export interface WriteEncodedRunOptions extends Omit<WriteRunOptions, 'batches'> {
  /** The run's rows as ClickHouse-encoded streams in `encoding` (the host's `EncodedRun`). */
  encoded: EncodedRun;
}

/**
 * `writeRunFiles` on the byte path: the same steps, attempt record, names and manifest, with each file one stream
 * of bytes ClickHouse encoded (one query per file) instead of rows encoded here. With `maxFileBytes`, each file is a
 * slice of the run by key hash (`KeySlice`): its size is planned from the exact rows per slice and the bytes per row
 * of the files written so far (the first file assumes FIRST_FILE_BYTES_PER_ROW), so a file stays near the limit
 * unless one 1/KEY_SLICES of the run alone is larger. Rows within a file keep the run's order; the run's rows are
 * spread over its files by key rather than by insertion time. Empty slices write no file.
 *
 * `replacements` is empty: on the byte path the host counts the values its SQL changed and adds them to the run;
 * the manifest's `invalid_json_values` comes from those counts.
 */
export async function writeEncodedRunFiles(o: WriteEncodedRunOptions): Promise<WriteRunOutcome> {
  const { store, layout, signal, encoded } = o;
  if (encoded.format.format !== o.encoding.format || encoded.format.compression !== o.encoding.compression) {
    throw new Error(`the encoded run carries ${encoded.format.format}/${encoded.format.compression}, the files are ${o.encoding.format}/${o.encoding.compression}`);
  }
  const maxFileBytes = layout.numbered && o.maxFileBytes && o.maxFileBytes > 0 ? o.maxFileBytes : undefined;
  await beginAttempt(o);
  const files: ManifestFile[] = [];

  const writeFile = async (slice: KeySlice | undefined): Promise<void> => {
    const key = layout.fileKey(files.length);
    const part = await encoded.open(slice);
    const sink = await store.create(key);
    let bytes = 0;
    try {
      for await (const chunk of part.chunks) {
        throwIfAborted(signal);
        bytes += chunk.byteLength;
        await sink.write(chunk);
        o.progress?.({ bytes: chunk.byteLength });
      }
      throwIfAborted(signal);
      const { rows } = await part.finished();
      await throwIfSuperseded(store, layout, o.run);
      await sink.close();
      files.push({ key, rows, bytes });
      o.progress?.({ rows });
    } catch (err) {
      await sink.abort(err);
      throw err;
    }
  };

  if (maxFileBytes === undefined) {
    await writeFile(undefined);
  } else {
    const stats = await encoded.stats();
    let bytesPerRow = FIRST_FILE_BYTES_PER_ROW;
    for (let from = 0; from < KEY_SLICES; ) {
      const targetRows = Math.max(1, (TARGET_FILL * maxFileBytes) / bytesPerRow);
      let to = from + 1;
      while (to < KEY_SLICES && stats.rowsIn({ from, to: to + 1 }) <= targetRows) to++;
      if (stats.rowsIn({ from, to }) > 0) await writeFile({ from, to });
      from = to;
      const rows = files.reduce((n, f) => n + f.rows, 0);
      if (rows > 0) bytesPerRow = files.reduce((n, f) => n + f.bytes, 0) / rows;
    }
  }
  const invalidJson = (await encoded.replacements()).filter((r) => r.rule === 'invalid_json_as_string').reduce((n, r) => n + r.count, 0);
  const { manifest, staleDeleted } = await finishAttempt(o, files, o.encoding.format === 'jsonl' ? invalidJson : 0);
  return { manifest, manifestKey: layout.manifestKey, staleDeleted, replacements: [] };
}

/** Bytes per row assumed before the first file of a split run is written: high, so that the first file stays small. */
const FIRST_FILE_BYTES_PER_ROW = 2048;
/** Split files aim below the limit by this factor, as slices hold whole hash buckets. */
const TARGET_FILL = 0.9;
