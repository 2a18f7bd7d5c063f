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
const EXP = 'export_id=exp-1';

/** The operator's OUTPORT_LOCAL_FILES_ROOT for each test is a fresh `root`; team 9's folder is inside it. */
const teamDir = () => path.join(root, 'team-9');

function ctx(over: { attempt?: number; signal?: AbortSignal } = {}) {
  return {
    runId: 'run-1', exportId: 'exp-1', teamId: 9, model: 'events' as const, schema: EVENTS_SCHEMA, interval,
    attempt: over.attempt ?? 1, isBackfill: false, signal: over.signal ?? new AbortController().signal,
    logger: collectingLogger(), progress: () => undefined, localFilesDirectory: teamDir(),
  };
}

function conn() {
  return { signal: new AbortController().signal, logger: collectingLogger(), localFilesDirectory: teamDir() };
}

/** Data files and manifests (the per-run `_attempt.json` records left out). */
function runFiles(dir: string): string[] {
  return listFiles(dir).filter((f) => !f.endsWith('_attempt.json'));
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
    const config = plugin.configSchema.parse({ path: 'out', prefix: 'team={team_id}/{table}/{year}/{month}/{day}/{hour}', max_file_size_mb: 0.01 });
    const result = await plugin.write(config, ctx(), batches(rows, 20));
    const out = path.join(teamDir(), 'out');
    const dir = `team=9/events/2024/03/01/10/${EXP}`;
    const files = runFiles(out);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, dir, `${RUN}_manifest.json`), 'utf8')) as RunManifest;
    expect(manifest.files.length).toBeGreaterThan(2);
    expect(manifest.files.map((f) => f.key)).toEqual(manifest.files.map((_, n) => `${dir}/${RUN}-${n}.jsonl.gz`));
    expect(files).toEqual([...manifest.files.map((f) => f.key), `${dir}/${RUN}_manifest.json`].sort());
    let total = 0;
    for (const f of manifest.files) {
      const data = fs.readFileSync(path.join(out, f.key));
      expect(data.byteLength).toBe(f.bytes);
      const fileRows = await decodeFile(f.key, data, EVENTS_SCHEMA);
      expect(fileRows).toHaveLength(f.rows);
      total += f.rows;
    }
    expect({ total, manifestRows: manifest.rows, landed: result.rowsLanded }).toEqual({ total: 400, manifestRows: 400, landed: 400 });
    expect(result.bytesWritten).toBe(manifest.files.reduce((n, f) => n + f.bytes, 0));
    expect(manifest).toMatchObject({ model: 'events', export_id: 'exp-1', run_id: 'run-1', attempt: 1, format: 'jsonl', compression: 'gzip', data_interval_start: '2024-03-01T10:00:00.000Z' });
  });

  it("a retry overwrites the run's files and deletes the ones it did not write (extra parts, other formats, temp files)", async () => {
    const base = { path: '.', prefix: '{table}', max_file_size_mb: 0.01 };
    await plugin.write(plugin.configSchema.parse(base), ctx(), batches(rows, 20));
    const before = runFiles(teamDir());
    expect(before.length).toBeGreaterThan(3);
    // Leftovers a crashed attempt could leave, and a neighbour interval's file and another export's files that must survive.
    const mine = path.join(teamDir(), 'events', EXP);
    fs.writeFileSync(path.join(mine, `${RUN}-0.jsonl.gz.0a1b2c3d4e5f.tmp`), 'partial');
    fs.writeFileSync(path.join(mine, `${RUN}.parquet`), 'old format');
    fs.writeFileSync(path.join(mine, '20240301T110000Z-20240301T120000Z.jsonl.gz'), 'next hour');
    fs.mkdirSync(path.join(teamDir(), 'events', 'export_id=exp-2'));
    fs.writeFileSync(path.join(teamDir(), 'events', 'export_id=exp-2', `${RUN}.parquet`), 'another export');
    fs.writeFileSync(path.join(teamDir(), 'events', `${RUN}-7.jsonl.gz`), 'written before exports had their own folders');

    const fewer = rows.slice(0, 60);
    const result = await plugin.write(plugin.configSchema.parse(base), ctx({ attempt: 2 }), batches(fewer, 20));
    expect(result.rowsLanded).toBe(60);
    expect(result.details?.staleDeleted).toEqual(expect.arrayContaining([`events/${EXP}/${RUN}-0.jsonl.gz.0a1b2c3d4e5f.tmp`, `events/${EXP}/${RUN}.parquet`]));
    const after = runFiles(teamDir());
    const manifest = JSON.parse(fs.readFileSync(path.join(mine, `${RUN}_manifest.json`), 'utf8')) as RunManifest;
    expect(manifest.attempt).toBe(2);
    expect(after).toEqual([
      ...manifest.files.map((f) => f.key), `events/${EXP}/${RUN}_manifest.json`, `events/${EXP}/20240301T110000Z-20240301T120000Z.jsonl.gz`,
      `events/export_id=exp-2/${RUN}.parquet`, `events/${RUN}-7.jsonl.gz`,
    ].sort());
    const back = await readModelRows(new DirectoryStore(teamDir()), '', EVENTS_SCHEMA);
    expect(back.map((r) => r.uuid)).toEqual(fewer.map((r) => r.uuid));
  });

  it('an aborted write leaves no files, no temporary files and no manifest', async () => {
    const controller = new AbortController();
    async function* failing(): AsyncGenerator<RecordBatch> {
      yield { rows: rows.slice(0, 100), sizeBytes: 0 };
      controller.abort(new Error('cancelled'));
      throw controller.signal.reason;
    }
    const config = plugin.configSchema.parse({ path: '.', file_format: 'Parquet', compression: 'snappy' });
    await expect(plugin.write(config, ctx({ signal: controller.signal }), failing())).rejects.toThrow('cancelled');
    expect(runFiles(root)).toEqual([]);
  });

  it('writes Parquet that reads back equal to the input', async () => {
    const config = plugin.configSchema.parse({ path: 'pq', file_format: 'Parquet', compression: 'zstd', prefix: '{table}' });
    await plugin.write(config, ctx(), batches(rows, 64));
    expect(listFiles(path.join(teamDir(), 'pq'))).toEqual([`events/${EXP}/${RUN}.parquet`, `events/${EXP}/${RUN}_attempt.json`, `events/${EXP}/${RUN}_manifest.json`]);
    expect(await readModelRows(new DirectoryStore(path.join(teamDir(), 'pq')), '', EVENTS_SCHEMA, { exportId: 'exp-1' })).toEqual(rows);
    expect(await readModelRows(new DirectoryStore(path.join(teamDir(), 'pq')), '', EVENTS_SCHEMA, { exportId: 'exp-2' })).toEqual([]);
  });

  it('classifies a path it cannot write as config, and a full disk as retryable', async () => {
    fs.mkdirSync(teamDir());
    fs.writeFileSync(path.join(teamDir(), 'a-file'), 'x');
    const config = plugin.configSchema.parse({ path: 'a-file/sub' });
    const err = await plugin.testConnection(config, conn()).catch((e) => e);
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

  describe("confined to the team's folder (issue 12.4)", () => {
    const teamA = () => path.join(root, 'team-1');
    const ctxB = (over: { runId?: string } = {}) => ({ ...ctx(), runId: over.runId ?? 'run-b', exportId: 'exp-b', teamId: 2, localFilesDirectory: path.join(root, 'team-2') });
    const connB = () => ({ ...conn(), localFilesDirectory: path.join(root, 'team-2') });

    /** Team A exports an hour into its own folder; returns how many rows a reader of A's folder finds. */
    async function teamAExports(): Promise<() => Promise<number>> {
      const config = plugin.configSchema.parse({ path: '.' });
      await plugin.write(config, { ...ctx(), teamId: 1, localFilesDirectory: teamA() }, batches(rows));
      return async () => (await readModelRows(new DirectoryStore(teamA()), '', EVENTS_SCHEMA)).length;
    }

    async function refused(config: unknown, when: 'test' | 'write' | 'both' = 'both'): Promise<void> {
      const parsed = plugin.configSchema.parse(config);
      if (when !== 'write') {
        const e = await plugin.testConnection(parsed, connB()).catch((err) => err);
        expect(e).toMatchObject({ name: 'DestinationError', kind: 'config' });
        expect(e.message).toMatch(/^path /);
      }
      if (when !== 'test') {
        const e = await plugin.write(parsed, ctxB(), batches(rows.slice(0, 40))).catch((err) => err);
        expect(e).toMatchObject({ name: 'DestinationError', kind: 'config' });
        expect(e.message).toMatch(/path/);
      }
    }

    it("refuses '..' in the schema, and absolute paths and symbolic links leading to another team's folder at test and write time", async () => {
      const rowsOfA = await teamAExports();
      expect(await rowsOfA()).toBe(400);
      for (const bad of ['../team-1', 'x/../../team-1', '..', 'a\\..\\..\\team-1']) {
        const r = plugin.configSchema.safeParse({ path: bad });
        expect(r.success ? [] : r.error.issues.map((i) => i.path.join('.'))).toEqual(['path']);
      }
      await refused({ path: teamA() });
      await refused({ path: root });
      await refused({ path: '/' });
      fs.mkdirSync(path.join(root, 'team-2'), { recursive: true });
      fs.symlinkSync(teamA(), path.join(root, 'team-2', 'to-a'));
      await refused({ path: 'to-a' });
      await refused({ path: 'to-a/deeper/still' });
      expect(await rowsOfA()).toBe(400);
      expect(fs.existsSync(path.join(teamA(), 'deeper'))).toBe(false);
    });

    it('refuses a symbolic link that appears after the destination was tested, at the top or below it', async () => {
      const rowsOfA = await teamAExports();
      const config = plugin.configSchema.parse({ path: 'mine', prefix: '{table}' });
      await plugin.testConnection(config, connB());
      const mine = path.join(root, 'team-2', 'mine');
      fs.rmSync(mine, { recursive: true });
      fs.symlinkSync(teamA(), mine);
      await refused(config, 'write');
      fs.rmSync(mine);
      // A link below the destination's folder, where the run's files would go.
      fs.mkdirSync(mine);
      fs.symlinkSync(path.join(teamA(), 'events'), path.join(mine, 'events'));
      await refused(config, 'write');
      expect(await rowsOfA()).toBe(400);
      expect(fs.readdirSync(path.join(teamA(), 'events'))).toEqual(['2024']);
    });

    it("accepts relative and absolute paths inside the team's folder, and refuses to run without one", async () => {
      const inside = plugin.configSchema.parse({ path: path.join(root, 'team-2', 'abs') });
      await plugin.testConnection(inside, connB());
      expect((await plugin.write(inside, ctxB(), batches(rows.slice(0, 40)))).rowsLanded).toBe(40);
      const nested = plugin.configSchema.parse({ path: 'a/./b/' });
      expect((await plugin.write(nested, ctxB(), batches(rows.slice(0, 40)))).details?.directory).toBe(path.join(root, 'team-2', 'a', 'b'));
      const { localFilesDirectory: _none, ...bare } = ctxB();
      const e = await plugin.write(inside, bare, batches(rows.slice(0, 4))).catch((err) => err);
      expect(e).toMatchObject({ kind: 'config', code: 'NO_LOCAL_FILES_DIRECTORY' });
    });
  });
});
