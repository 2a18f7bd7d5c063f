/**
 * writeEncodedRunFiles (the byte path of file destinations) keeps the exactly-once rules of writeRunFiles: an attempt
 * taken over while it streams never touches the newer attempt's files or manifest; a cancelled attempt leaves no
 * file and no manifest behind.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirectoryStore } from '../../plugins/local-files/dir-store';
import type { EncodedRun } from '../../src/sdk/destination';
import { EVENTS_SCHEMA } from '../../src/sdk';
import { readRun, runLayout, writeEncodedRunFiles, type RunManifest } from '../../src/sdk/files';
import { generateEvents, insertEvents, isoMicros, microsOf } from '../../src/source/generator';
import { createTestClickHouse } from '../source/support/clickhouse';

const S = new Date('2024-03-01T10:00:00Z');
const interval = { start: S, end: new Date(S.getTime() + 3_600_000) };
const encoding = { format: 'jsonl', compression: 'none' } as const;

/** The same run, with each stream stopping after its first chunk until `release` is called. */
function pausing(run: EncodedRun, paused: Promise<void>): EncodedRun {
  return {
    ...run,
    open: async (slice) => {
      const part = await run.open(slice);
      return {
        finished: () => part.finished(),
        chunks: (async function* () {
          let n = 0;
          for await (const c of part.chunks) {
            if (++n === 2) await paused;
            yield c;
          }
        })(),
      };
    },
  };
}

describe('writeEncodedRunFiles', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  let root: string;
  beforeAll(async () => {
    ctx = await createTestClickHouse('rw_encoded');
    await insertEvents(ctx.client, { database: ctx.database }, generateEvents({ seed: 12, count: 2000, teamId: 1, start: S, stepMicros: 1_000_000 }));
  });
  afterAll(() => ctx.drop());
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-rwe-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const query = (end = interval.end) => ({ teamId: 1, model: 'events' as const, interval: { start: isoMicros(microsOf(S)), end: isoMicros(microsOf(end)) } });

  it('an attempt taken over while it streamed stops before closing a file: the newer attempt\'s files and manifest stay intact', async () => {
    const layout = runLayout('p', interval, '.jsonl', true, 'exp-1');
    const store = new DirectoryStore(root);
    let release!: () => void;
    const paused = new Promise<void>((r) => (release = r));
    const old = writeEncodedRunFiles({
      store, layout, schema: EVENTS_SCHEMA, encoding, maxFileBytes: 200_000,
      encoded: pausing(ctx.source.encodedRun(query(), encoding), paused),
      run: { runId: 'r', attempt: 1, interval },
    });
    await new Promise((r) => setTimeout(r, 1500));
    // The newer attempt reads a shorter run (fewer rows), so its files differ from what the old one would write.
    const newer = await writeEncodedRunFiles({
      store, layout, schema: EVENTS_SCHEMA, encoding, maxFileBytes: 200_000,
      encoded: ctx.source.encodedRun(query(new Date(S.getTime() + 600_000)), encoding),
      run: { runId: 'r', attempt: 2, interval },
    });
    release();
    await expect(old).rejects.toMatchObject({ kind: 'permanent', code: 'SUPERSEDED' });
    const newerRows = await ctx.source.count(query(new Date(S.getTime() + 600_000)));
    expect(newerRows).toBeGreaterThan(100);
    expect(newer.manifest.rows).toBe(newerRows);
    const manifest = JSON.parse(Buffer.from((await store.get(layout.manifestKey))!).toString()) as RunManifest;
    expect(manifest).toEqual(newer.manifest);
    expect((await readRun(store, manifest, EVENTS_SCHEMA)).length).toBe(newerRows);
    expect((await store.list('p')).filter((k) => layout.ownsKey(k)).sort()).toEqual(manifest.files.map((f) => f.key).sort());
  });

  it('a cancelled attempt leaves no file and no manifest, and stops its query', async () => {
    const layout = runLayout('p', interval, '.jsonl', false, 'exp-1');
    const store = new DirectoryStore(root);
    const controller = new AbortController();
    let release!: () => void;
    const paused = new Promise<void>((r) => (release = r));
    const attempt = writeEncodedRunFiles({
      store, layout, schema: EVENTS_SCHEMA, encoding, signal: controller.signal,
      encoded: pausing(ctx.source.encodedRun(query(), encoding, { signal: controller.signal }), paused),
      run: { runId: 'r', attempt: 1, interval },
    });
    await new Promise((r) => setTimeout(r, 1500));
    controller.abort(new Error('cancelled by the test'));
    release();
    await expect(attempt).rejects.toThrow(/cancelled by the test/);
    expect(await store.get(layout.manifestKey)).toBeUndefined();
    expect((await store.list('p')).filter((k) => layout.ownsKey(k))).toEqual([]);
  });
});
