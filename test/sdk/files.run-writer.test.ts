import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EVENTS_SCHEMA, type RecordBatch } from '../../src/sdk';
import { eventRows } from '../../src/sdk/conformance';
import { readRun, runLayout, writeRunFiles, type FileStore, type RunManifest } from '../../src/sdk/files';
import { DirectoryStore } from '../../plugins/local-files/dir-store';

const interval = { start: new Date('2024-03-01T10:00:00Z'), end: new Date('2024-03-01T11:00:00Z') };

/** Wraps a store and records every operation in order. */
function recording(inner: FileStore): { store: FileStore; ops: string[] } {
  const ops: string[] = [];
  const store: FileStore = {
    create: async (key) => {
      const sink = await inner.create(key);
      return { ...sink, close: async () => { await sink.close(); ops.push(`close ${key}`); } };
    },
    put: async (key, body, type) => { await inner.put(key, body, type); ops.push(`put ${key}`); },
    get: (key) => inner.get(key),
    list: async (prefix) => { ops.push(`list ${prefix}`); return inner.list(prefix); },
    delete: async (keys) => { await inner.delete(keys); ops.push(`delete ${keys.join(',')}`); },
  };
  return { store, ops };
}

async function* batches(n: number): AsyncGenerator<RecordBatch> {
  const rows = eventRows(interval, 0, n);
  for (let i = 0; i < rows.length; i += 25) yield { rows: rows.slice(i, i + 25), sizeBytes: 0 };
}

describe('writeRunFiles', () => {
  it('removes the manifest first, writes the numbered files, deletes stale ones, and writes the manifest last', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-rw-'));
    try {
      const layout = runLayout('p', interval, '.jsonl', true, 'exp-1');
      const first = recording(new DirectoryStore(root));
      const run = { runId: 'r', attempt: 1, interval };
      const one = await writeRunFiles({ store: first.store, layout, schema: EVENTS_SCHEMA, encoding: { format: 'jsonl', compression: 'none' }, batches: batches(200), maxFileBytes: 20_000, run });
      expect(one.manifest.files.length).toBeGreaterThan(3);
      expect(first.ops.slice(0, 2)).toEqual([`put ${layout.attemptKey}`, `delete ${layout.manifestKey}`]);
      expect(first.ops.at(-1)).toBe(`put ${layout.manifestKey}`);
      expect(one.manifest.export_id).toBe('exp-1');
      expect(first.ops.filter((o) => o.startsWith('close'))).toEqual(one.manifest.files.map((f) => `close ${f.key}`));

      const second = recording(new DirectoryStore(root));
      const two = await writeRunFiles({ store: second.store, layout, schema: EVENTS_SCHEMA, encoding: { format: 'jsonl', compression: 'none' }, batches: batches(30), maxFileBytes: 20_000, run: { ...run, attempt: 2 } });
      const stale = one.manifest.files.slice(two.manifest.files.length).map((f) => f.key);
      expect(stale.length).toBeGreaterThan(0);
      expect(two.staleDeleted).toEqual(stale);
      expect(second.ops.slice(-2)).toEqual([`delete ${stale.join(',')}`, `put ${layout.manifestKey}`]);
      expect(two.manifest.rows).toBe(30);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('an attempt whose run was taken over while it streamed stops before closing a file: the newer attempt\'s files and manifest stay intact', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-rw-'));
    try {
      const layout = runLayout('p', interval, '.jsonl', true, 'exp-1');
      const encoding = { format: 'jsonl', compression: 'none' } as const;
      const store = new DirectoryStore(root);
      // The old worker (attempt 1) is still streaming when attempt 2, after the takeover, completes.
      let release!: () => void;
      const paused = new Promise<void>((r) => (release = r));
      async function* slow(): AsyncGenerator<RecordBatch> {
        let n = 0;
        for await (const b of batches(200)) {
          if (++n === 2) await paused;
          yield b;
        }
      }
      const old = writeRunFiles({ store, layout, schema: EVENTS_SCHEMA, encoding, batches: slow(), maxFileBytes: 20_000, run: { runId: 'r', attempt: 1, interval } });
      await new Promise((r) => setTimeout(r, 50));
      const newer = await writeRunFiles({ store, layout, schema: EVENTS_SCHEMA, encoding, batches: batches(30), maxFileBytes: 20_000, run: { runId: 'r', attempt: 2, interval } });
      release();
      await expect(old).rejects.toMatchObject({ kind: 'permanent', code: 'SUPERSEDED' });
      const manifest = JSON.parse(Buffer.from((await store.get(layout.manifestKey))!).toString()) as RunManifest;
      expect(manifest).toEqual(newer.manifest);
      // readRun checks every listed file's bytes and rows against the manifest.
      expect((await readRun(store, manifest, EVENTS_SCHEMA)).map((r) => r.uuid)).toEqual(eventRows(interval, 0, 30).map((r) => r.uuid));
      expect((await store.list('p')).filter((k) => layout.ownsKey(k)).sort()).toEqual(manifest.files.map((f) => f.key).sort());
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
