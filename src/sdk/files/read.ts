/** Reading runs back: manifests, files, and the per-key merge that turns interval snapshots into current rows. */
import { isNewerVersion, type ModelSchema, type Row } from '../models';
import { jsonlCompressionFromName } from './compression';
import { decodeJsonl } from './jsonl';
import { decodeParquet } from './parquet';
import type { RunManifest } from './run-writer';
import type { FileStore } from './store';

/** Decodes one file by its name (`.parquet`, `.jsonl[.gz|.br|.zst]`). */
export async function decodeFile(key: string, data: Uint8Array, schema: ModelSchema): Promise<Row[]> {
  if (/\.parquet(\.|$)/.test(key)) return decodeParquet(data, schema);
  if (/\.jsonl(\.|$)/.test(key)) return decodeJsonl(data, schema, jsonlCompressionFromName(key));
  throw new Error(`not a file this SDK writes: ${key}`);
}

/** Every complete run (a manifest exists) under `prefix`, oldest write first. */
export async function listManifests(store: FileStore, prefix: string): Promise<{ key: string; manifest: RunManifest }[]> {
  const keys = (await store.list(prefix)).filter((k) => k.endsWith('_manifest.json')).sort();
  const out: { key: string; manifest: RunManifest }[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (body) out.push({ key, manifest: JSON.parse(Buffer.from(body).toString('utf8')) as RunManifest });
  }
  return out.sort((a, b) => a.manifest.written_at.localeCompare(b.manifest.written_at));
}

/** The rows of one complete run, checking each file's row count against its manifest. */
export async function readRun(store: FileStore, manifest: RunManifest, schema: ModelSchema): Promise<Row[]> {
  const rows: Row[] = [];
  for (const f of manifest.files) {
    const data = await store.get(f.key);
    if (!data) throw new Error(`manifest lists ${f.key}, which is missing`);
    if (data.byteLength !== f.bytes) throw new Error(`${f.key} has ${data.byteLength} bytes, the manifest says ${f.bytes}`);
    const fileRows = await decodeFile(f.key, data, schema);
    if (fileRows.length !== f.rows) throw new Error(`${f.key} has ${fileRows.length} rows, the manifest says ${f.rows}`);
    // One by one: spreading a file of a few hundred thousand rows into push() overflows the call stack.
    for (const row of fileRows) rows.push(row);
  }
  return rows;
}

/**
 * Merges rows in write order by the schema's key: a later row replaces the kept one only when its versions are
 * greater (`isNewerVersion`, the rule table destinations apply). Immutable models (no version columns) are
 * returned as is.
 */
export function mergeLatestVersions(rows: Row[], schema: ModelSchema): Row[] {
  if (schema.versionColumns.length === 0) return rows;
  const kept = new Map<string, Row>();
  for (const row of rows) {
    const k = JSON.stringify(schema.key.map((c) => row[c]));
    const old = kept.get(k);
    if (!old || isNewerVersion(schema, row, old)) kept.set(k, row);
  }
  return [...kept.values()];
}

/**
 * The rows a reader of these files sees for one model: every complete run under `prefix` (of one export with
 * `only.exportId`), in write order, merged by `mergeLatestVersions` for mutable models (immutable models:
 * concatenated). Throws if one run holds a key twice, which exactly-once writing never produces.
 */
export async function readModelRows(store: FileStore, prefix: string, schema: ModelSchema, only: { exportId?: string } = {}): Promise<Row[]> {
  const rows: Row[] = [];
  for (const { key, manifest } of await listManifests(store, prefix)) {
    if (manifest.model !== schema.model) continue;
    if (only.exportId !== undefined && manifest.export_id !== only.exportId) continue;
    const runRows = await readRun(store, manifest, schema);
    const seen = new Set<string>();
    for (const row of runRows) {
      const k = JSON.stringify(schema.key.map((c) => row[c]));
      if (seen.has(k)) throw new Error(`run ${key} holds key ${k} twice`);
      seen.add(k);
    }
    for (const row of runRows) rows.push(row);
  }
  return mergeLatestVersions(rows, schema);
}
