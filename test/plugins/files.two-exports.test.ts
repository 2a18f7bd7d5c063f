/**
 * Issue 11.1: two exports into one file destination (or two destinations on one folder/bucket) must never
 * overwrite or delete each other's files. Every check reads the destination back file by file, independently of
 * the manifests, and also the way a reader of one export does (its manifests).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EVENTS_SCHEMA, type DestinationPlugin, type RecordBatch, type Row, type RunContext } from '../../src/sdk';
import { eventRows } from '../../src/sdk/conformance';
import { collectingLogger } from '../../src/sdk/conformance/run';
import { decodeFile, listManifests, readRun, type FileStore } from '../../src/sdk/files';
import localFiles from '../../plugins/local-files';
import { DirectoryStore } from '../../plugins/local-files/dir-store';
import s3 from '../../plugins/s3';
import { freshS3Config, storeFor } from '../conformance/fixtures/s3';

const HOUR = 3_600_000;
const hours = [0, 1].map((h) => {
  const start = new Date(Date.UTC(2024, 2, 1, 10 + h));
  return { start, end: new Date(start.getTime() + HOUR) };
});
/** Per hour: the source rows, split the way two exports filter them (pageviews, and everything else). */
const source = hours.map((interval, h) => {
  const rows = eventRows(interval, h * 1000, 300);
  return { interval, pageviews: rows.filter((r) => r.event === '$pageview'), others: rows.filter((r) => r.event !== '$pageview') };
});
const PAGEVIEWS = '0a7c1e52-8f3b-4d0e-9c61-2b5d8e4f7a10';
const OTHERS = '0a7c1e52-8f3b-4d0e-9c61-2b5d8e4f7a11';

async function* batches(rows: Row[], size = 20, crashAfter?: number): AsyncGenerator<RecordBatch> {
  for (let i = 0; i < rows.length; i += size) {
    if (crashAfter !== undefined && i >= crashAfter) throw new Error('worker lost mid-run');
    await new Promise((r) => setImmediate(r));
    yield { rows: rows.slice(i, i + size), sizeBytes: 0 };
  }
}

interface Target {
  name: string;
  plugin: DestinationPlugin;
  /** A config of a destination on the SAME folder/bucket as every other config of this target. */
  config(settings: Record<string, unknown>): Promise<unknown>;
  hostContext: Partial<RunContext>;
  store(): { store: FileStore; close(): void };
  teardown(): void;
}

async function localTarget(): Promise<Target> {
  const operatorRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-2x-'));
  const teamDir = path.join(operatorRoot, 'team-9');
  const dir = path.join(teamDir, 'shared');
  return {
    name: 'local-files',
    plugin: localFiles,
    config: async (settings) => localFiles.configSchema.parse({ path: 'shared', ...settings }),
    hostContext: { localFilesDirectory: teamDir } as Partial<RunContext>,
    store: () => ({ store: new DirectoryStore(dir), close: () => undefined }),
    teardown: () => fs.rmSync(operatorRoot, { recursive: true, force: true }),
  };
}

async function s3Target(): Promise<Target> {
  const first = await freshS3Config();
  return {
    name: 's3',
    plugin: s3,
    config: async (settings) => s3.configSchema.parse({ ...first, ...settings }),
    hostContext: {},
    store: () => storeFor(first),
    teardown: () => undefined,
  };
}

function runCtx(t: Target, o: { exportId: string; interval: { start: Date; end: Date }; runId: string; attempt?: number }): RunContext {
  return {
    runId: o.runId, exportId: o.exportId, teamId: 9, model: 'events', schema: EVENTS_SCHEMA, interval: o.interval,
    attempt: o.attempt ?? 1, isBackfill: true, signal: new AbortController().signal, logger: collectingLogger(),
    progress: () => undefined, ...t.hostContext,
  };
}

/** Every data file at the destination, decoded on its own (manifests ignored): uuid -> how many copies exist. */
async function copiesInFiles(t: Target): Promise<Map<string, number>> {
  const { store, close } = t.store();
  try {
    const copies = new Map<string, number>();
    for (const key of await store.list('')) {
      if (key.endsWith('_manifest.json') || key.endsWith('_attempt.json')) continue;
      for (const row of await decodeFile(key, (await store.get(key))!, EVENTS_SCHEMA)) {
        copies.set(row.uuid as string, (copies.get(row.uuid as string) ?? 0) + 1);
      }
    }
    return copies;
  } finally {
    close();
  }
}

/** What a reader of one export sees: the rows of the complete runs (manifests) that carry its export id. */
async function rowsOfExport(t: Target, exportId: string): Promise<string[]> {
  const { store, close } = t.store();
  try {
    const uuids: string[] = [];
    for (const { manifest } of await listManifests(store, '')) {
      if (manifest.export_id !== exportId) continue;
      uuids.push(...(await readRun(store, manifest, EVENTS_SCHEMA)).map((r) => r.uuid as string));
    }
    return uuids.sort();
  } finally {
    close();
  }
}

const uuidsOf = (rows: Row[]) => rows.map((r) => r.uuid as string).sort();

function expectEachSourceRowOnce(copies: Map<string, number>): void {
  const all = source.flatMap((s) => [...s.pageviews, ...s.others]);
  const missing = all.filter((r) => !copies.has(r.uuid as string)).length;
  const duplicated = [...copies.values()].filter((n) => n > 1).length;
  expect({ files: all.length - missing, missing, duplicated, extra: copies.size - (all.length - missing) })
    .toEqual({ files: all.length, missing: 0, duplicated: 0, extra: 0 });
}

describe.each([['local-files', localTarget], ['s3', s3Target]] as const)('%s: two exports into one destination', (_name, makeTarget) => {
  let t: Target;
  beforeEach(async () => {
    t = await makeTarget();
  });
  afterEach(() => t.teardown());

  it('keeps every row of both exports, backfilled at once over the same hours, and each reader finds what its runs reconciled', async () => {
    const config = await t.config({ max_file_size_mb: 0.01 });
    const landed = { [PAGEVIEWS]: 0, [OTHERS]: 0 };
    const backfill = async (exportId: string, pick: (s: (typeof source)[number]) => Row[]) => {
      for (const s of source) {
        const r = await t.plugin.write(config, runCtx(t, { exportId, interval: s.interval, runId: `${exportId}-${s.interval.start.getTime()}` }), batches(pick(s)));
        landed[exportId as keyof typeof landed] += r.rowsLanded;
      }
    };
    // Different exports run on different queues: their backfills really do run at the same time.
    await Promise.all([backfill(PAGEVIEWS, (s) => s.pageviews), backfill(OTHERS, (s) => s.others)]);
    expectEachSourceRowOnce(await copiesInFiles(t));

    const pageviews = uuidsOf(source.flatMap((s) => s.pageviews));
    const others = uuidsOf(source.flatMap((s) => s.others));
    expect(await rowsOfExport(t, PAGEVIEWS)).toEqual(pageviews);
    expect(await rowsOfExport(t, OTHERS)).toEqual(others);
    expect(landed).toEqual({ [PAGEVIEWS]: pageviews.length, [OTHERS]: others.length });

    // An overlapping backfill of one export rewrites its own hour and leaves the other export's alone.
    await t.plugin.write(config, runCtx(t, { exportId: PAGEVIEWS, interval: hours[1], runId: 'second-backfill' }), batches(source[1].pageviews, 7));
    expectEachSourceRowOnce(await copiesInFiles(t));
    expect(await rowsOfExport(t, PAGEVIEWS)).toEqual(pageviews);
    expect(await rowsOfExport(t, OTHERS)).toEqual(others);
  });

  it('two destinations on the same folder/bucket with different formats do not delete each other\'s files', async () => {
    const jsonl = await t.config({ file_format: 'JSONLines', compression: 'gzip', max_file_size_mb: 0.01 });
    const parquet = await t.config({ file_format: 'Parquet', compression: 'zstd' });
    for (const s of source) {
      await t.plugin.write(jsonl, runCtx(t, { exportId: PAGEVIEWS, interval: s.interval, runId: `a-${s.interval.start.getTime()}` }), batches(s.pageviews));
      await t.plugin.write(parquet, runCtx(t, { exportId: OTHERS, interval: s.interval, runId: `b-${s.interval.start.getTime()}` }), batches(s.others));
    }
    expectEachSourceRowOnce(await copiesInFiles(t));
    expect(await rowsOfExport(t, PAGEVIEWS)).toEqual(uuidsOf(source.flatMap((s) => s.pageviews)));
    expect(await rowsOfExport(t, OTHERS)).toEqual(uuidsOf(source.flatMap((s) => s.others)));
  });

  it('a retry after a crashed attempt removes its own stale parts, duplicates nothing, and leaves the other export alone', async () => {
    const split = await t.config({ compression: 'none', max_file_size_mb: 0.005 });
    for (const s of source) {
      await t.plugin.write(split, runCtx(t, { exportId: PAGEVIEWS, interval: s.interval, runId: `a-${s.interval.start.getTime()}` }), batches(s.pageviews));
    }
    // Attempt 1 of the other export's first hour dies after several closed parts, before its manifest.
    const run = { exportId: OTHERS, interval: hours[0], runId: 'b-0' };
    await expect(t.plugin.write(split, runCtx(t, run), batches(source[0].others, 10, 150))).rejects.toThrow('worker lost mid-run');
    const crashed = await copiesInFiles(t);
    expect(source[0].others.filter((r) => crashed.has(r.uuid as string)).length).toBeGreaterThan(50);

    // Attempt 2 runs with the export's current settings (one file per run): the numbered parts are now stale.
    const whole = await t.config({ max_file_size_mb: 0 });
    const result = await t.plugin.write(whole, runCtx(t, { ...run, attempt: 2 }), batches(source[0].others));
    expect(result.rowsLanded).toBe(source[0].others.length);
    expect((result.details?.staleDeleted as string[]).length).toBeGreaterThan(1);
    await t.plugin.write(whole, runCtx(t, { exportId: OTHERS, interval: hours[1], runId: 'b-1' }), batches(source[1].others));

    expectEachSourceRowOnce(await copiesInFiles(t));
    expect(await rowsOfExport(t, PAGEVIEWS)).toEqual(uuidsOf(source.flatMap((s) => s.pageviews)));
    expect(await rowsOfExport(t, OTHERS)).toEqual(uuidsOf(source.flatMap((s) => s.others)));
  });
});
