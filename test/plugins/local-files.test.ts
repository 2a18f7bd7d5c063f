import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DestinationError, EVENTS_SCHEMA, type RecordBatch, type Row } from '../../src/sdk';
import { eventRows } from '../../src/sdk/conformance';
import { collectingLogger } from '../../src/sdk/conformance/run';
import { decodeFile, readModelRows, type FileStore, type RunManifest } from '../../src/sdk/files';
import plugin from '../../plugins/local-files';
import { DirectoryStore } from '../../plugins/local-files/dir-store';

const interval = { start: new Date('2024-03-01T10:00:00Z'), end: new Date('2024-03-01T11:00:00Z') };
const RUN = '20240301T100000Z-20240301T110000Z';

function ctx(over: { attempt?: number; signal?: AbortSignal } = {}) {
  return {
    runId: 'run-1', exportId: 'exp-1', teamId: 9, model: 'events' as const, schema: EVENTS_SCHEMA, interval,
    attempt: over.attempt ?? 1, isBackfill: false, signal: over.signal ?? new AbortController().signal,
    logger: collectingLogger(), progress: () => undefined,
  };
}

async function* batches(rows: Row[], size = 50): AsyncGenerator<RecordBatch> {
  for (let i = 0; i < rows.length; i += size) yield { rows: rows.slice(i, i + size), sizeBytes: 0 };
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-lf-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const rows = eventRows(interval, 0, 400);

describe('local-files destination', () => {
  it('renders the prefix template into directories and splits a run into numbered files listed by the manifest', async () => {
    const config = plugin.configSchema.parse({ path: root, prefix: 'team={team_id}/{table}/{year}/{month}/{day}/{hour}', max_file_size_mb: 0.01 });
    const result = await plugin.write(config, ctx(), batches(rows, 20));
    const dir = 'team=9/events/2024/03/01/10';
    const files = listFiles(root);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, dir, `${RUN}_manifest.json`), 'utf8')) as RunManifest;
    expect(manifest.files.length).toBeGreaterThan(2);
    expect(manifest.files.map((f) => f.key)).toEqual(manifest.files.map((_, n) => `${dir}/${RUN}-${n}.jsonl.gz`));
    expect(files).toEqual([...manifest.files.map((f) => f.key), `${dir}/${RUN}_manifest.json`].sort());
    let total = 0;
    for (const f of manifest.files) {
      const data = fs.readFileSync(path.join(root, f.key));
      expect(data.byteLength).toBe(f.bytes);
      const fileRows = await decodeFile(f.key, data, EVENTS_SCHEMA);
      expect(fileRows).toHaveLength(f.rows);
      total += f.rows;
    }
    expect({ total, manifestRows: manifest.rows, landed: result.rowsLanded }).toEqual({ total: 400, manifestRows: 400, landed: 400 });
    expect(result.bytesWritten).toBe(manifest.files.reduce((n, f) => n + f.bytes, 0));
    expect(manifest).toMatchObject({ model: 'events', run_id: 'run-1', attempt: 1, format: 'jsonl', compression: 'gzip', data_interval_start: '2024-03-01T10:00:00.000Z' });
  });

  it("a retry overwrites the run's files and deletes the ones it did not write (extra parts, other formats, temp files)", async () => {
    const base = { path: root, prefix: '{table}', max_file_size_mb: 0.01 };
    await plugin.write(plugin.configSchema.parse(base), ctx(), batches(rows, 20));
    const before = listFiles(root);
    expect(before.length).toBeGreaterThan(3);
    // Leftovers a crashed attempt could leave, and a neighbour interval's file that must survive.
    fs.writeFileSync(path.join(root, 'events', `${RUN}-0.jsonl.gz.0a1b2c3d4e5f.tmp`), 'partial');
    fs.writeFileSync(path.join(root, 'events', `${RUN}.parquet`), 'old format');
    fs.writeFileSync(path.join(root, 'events', '20240301T110000Z-20240301T120000Z.jsonl.gz'), 'next hour');

    const fewer = rows.slice(0, 60);
    const result = await plugin.write(plugin.configSchema.parse(base), ctx({ attempt: 2 }), batches(fewer, 20));
    expect(result.rowsLanded).toBe(60);
    expect(result.details?.staleDeleted).toEqual(expect.arrayContaining([`events/${RUN}-0.jsonl.gz.0a1b2c3d4e5f.tmp`, `events/${RUN}.parquet`]));
    const after = listFiles(root);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'events', `${RUN}_manifest.json`), 'utf8')) as RunManifest;
    expect(manifest.attempt).toBe(2);
    expect(after).toEqual([...manifest.files.map((f) => f.key), `events/${RUN}_manifest.json`, 'events/20240301T110000Z-20240301T120000Z.jsonl.gz'].sort());
    expect(after.length).toBeLessThan(before.length + 1);
    const back = await readModelRows(new DirectoryStore(root), '', EVENTS_SCHEMA);
    expect(back.map((r) => r.uuid)).toEqual(fewer.map((r) => r.uuid));
  });

  it('an aborted write leaves no files, no temporary files and no manifest', async () => {
    const controller = new AbortController();
    async function* failing(): AsyncGenerator<RecordBatch> {
      yield { rows: rows.slice(0, 100), sizeBytes: 0 };
      controller.abort(new Error('cancelled'));
      throw controller.signal.reason;
    }
    const config = plugin.configSchema.parse({ path: root, file_format: 'Parquet', compression: 'snappy' });
    await expect(plugin.write(config, ctx({ signal: controller.signal }), failing())).rejects.toThrow('cancelled');
    expect(listFiles(root)).toEqual([]);
  });

  it('writes Parquet that reads back equal to the input', async () => {
    const config = plugin.configSchema.parse({ path: root, file_format: 'Parquet', compression: 'zstd', prefix: '{table}' });
    await plugin.write(config, ctx(), batches(rows, 64));
    expect(listFiles(root)).toEqual([`events/${RUN}.parquet`, `events/${RUN}_manifest.json`]);
    expect(await readModelRows(new DirectoryStore(root), '', EVENTS_SCHEMA)).toEqual(rows);
  });

  it('classifies a path it cannot write as config, and a full disk as retryable', async () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, 'x');
    const config = plugin.configSchema.parse({ path: path.join(file, 'sub') });
    const err = await plugin.testConnection(config, { signal: new AbortController().signal, logger: collectingLogger() }).catch((e) => e);
    expect(err).toBeInstanceOf(DestinationError);
    expect(err).toMatchObject({ kind: 'config', code: 'ENOTDIR' });
    expect(err.message).toMatch(/Check the path setting/);
    expect(plugin.classifyError!(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })).kind).toBe('retryable');
    expect(plugin.classifyError!(Object.assign(new Error('permission denied'), { code: 'EACCES' })).kind).toBe('config');
  });

  it('refuses keys that would escape the directory', async () => {
    const store: FileStore = new DirectoryStore(root);
    await expect(store.put('../outside.json', Buffer.from('x'), 'application/json')).rejects.toThrow(/escapes the directory/);
  });
});
