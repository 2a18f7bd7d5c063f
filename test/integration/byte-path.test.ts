/**
 * File destinations on the byte path through a real run (API -> worker -> ClickHouse encodes -> files): split by
 * max file size into key slices with true row counts in the manifest, the same rows as the row path, and a replay
 * of the run with other settings leaving exactly one copy (stale parts deleted, manifest last).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirectoryStore } from '../../plugins/local-files/dir-store';
import { decodeFile, listManifests, readModelRows } from '../../src/sdk/files';
import { EVENTS_SCHEMA, type Row } from '../../src/sdk/models';
import { generateEvents, hostileEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { runHourThroughApi } from '../support/export-runs';

const HOUR = 3_600_000;
jest.setTimeout(180_000);

describe('file destinations on the byte path, through the worker', () => {
  let h: AppHarness;
  const filesRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-bytepath-'));
  const start = new Date('2026-04-01T00:00:00Z');
  beforeAll(async () => {
    h = await startAppHarness({ env: { OUTPORT_LOCAL_FILES_ROOT: filesRoot }, overrides: { pluginDirs: [path.join(__dirname, '..', 'fixtures', 'execution-plugins')] } });
    await insertEvents(h.ch, { database: h.chDatabase }, [
      ...generateEvents({ seed: 77, teamId: h.teamId, count: 3000, start, stepMicros: 1_000_000 }),
      ...hostileEvents({ seed: 78, teamId: h.teamId, start: new Date(start.getTime() + 60_000) }),
    ]);
  }, 120_000);
  afterAll(async () => {
    delete process.env.OUTPORT_DATA_PATH;
    await h?.stop();
    fs.rmSync(filesRoot, { recursive: true, force: true });
  });

  async function exportTo(folder: string, config: Record<string, unknown>): Promise<{ destinationId: string; exportId: string }> {
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "files", type: "local-files", config: $c }) { id } }`,
      { c: { path: folder, ...config } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "files", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    return { destinationId: createDestination.id, exportId: createBatchExport.id };
  }

  const runHour = (exportId: string) => runHourThroughApi(h, exportId, start, 90_000);

  const store = (folder: string) => new DirectoryStore(path.join(filesRoot, `team-${h.teamId}`, folder));
  const byUuid = (rows: Row[]) => [...rows].sort((a, b) => String(a.uuid).localeCompare(String(b.uuid)));
  const counts = (list: { column: string; rule: string; count: number }[]) => list.map(({ column, rule, count }) => `${rule}:${column}=${count}`).sort();

  it('reconciles a sliced byte path against the whole query: a slice left out fails the run', async () => {
    for (const skip of [false, true]) {
      const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
        `mutation($c: JSONObject!) { createDestination(input: { name: "slicing", type: "slicing", config: $c }) { id } }`,
        { c: { skip_second_slice: skip } },
      );
      const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
        `mutation($d: ID!) { createBatchExport(input: { name: "slicing", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
        { d: createDestination.id },
      );
      const { run } = await runHour(createBatchExport.id);
      if (!skip) expect(run).toMatchObject({ status: 'COMPLETED', recordsCompleted: 3009 });
      else {
        expect(run.status).toBe('FAILED');
        expect(run.latestError).toMatch(/Reconciliation failed: read 3009 rows from the source but the destination confirmed \d+/);
      }
    }
  });

  it('splits Parquet by max file size with true manifest counts, lands the row path\'s rows, and a replay leaves one copy', async () => {
    const bytes = await exportTo('bytes', { file_format: 'Parquet', compression: 'zstd', max_file_size_mb: 0.2 });
    const first = await runHour(bytes.exportId);
    expect(first.run).toMatchObject({ status: 'COMPLETED', recordsCompleted: 3000 + 9 });
    expect(first.messages.some((m) => m.startsWith('Data path: bytes (ClickHouse writes parquet, zstd'))).toBe(true);

    const [{ manifest }] = await listManifests(store('bytes'), '');
    expect(manifest.files.length).toBeGreaterThan(2);
    for (const f of manifest.files) {
      const data = fs.readFileSync(path.join(store('bytes').root, f.key));
      expect(data.byteLength).toBe(f.bytes);
      expect(f.bytes).toBeLessThan(0.2 * 1024 * 1024 * 1.5);
      expect((await decodeFile(f.key, data, EVENTS_SCHEMA)).length).toBe(f.rows);
    }
    const bytePathRows = await readModelRows(store('bytes'), '', EVENTS_SCHEMA);
    expect(bytePathRows).toHaveLength(3009);

    process.env.OUTPORT_DATA_PATH = 'rows';
    try {
      const rows = await exportTo('rows', { file_format: 'Parquet', compression: 'zstd' });
      const viaRows = await runHour(rows.exportId);
      expect(viaRows.run.status).toBe('COMPLETED');
      expect(viaRows.messages.some((m) => m.startsWith('Data path: bytes'))).toBe(false);
      expect(byUuid(bytePathRows)).toEqual(byUuid(await readModelRows(store('rows'), '', EVENTS_SCHEMA)));
      expect(counts(first.run.replacements)).toEqual(counts(viaRows.run.replacements));
    } finally {
      delete process.env.OUTPORT_DATA_PATH;
    }

    // Replay with one file per run: the numbered parts of the first attempt are stale and go.
    await h.gql(`mutation($id: ID!, $c: JSONObject!) { updateDestination(input: { id: $id, config: $c }) { id } }`, {
      id: bytes.destinationId,
      c: { path: 'bytes', file_format: 'JSONLines', compression: 'gzip', max_file_size_mb: 0 },
    });
    const replay = await runHour(bytes.exportId);
    expect(replay.run).toMatchObject({ status: 'COMPLETED', recordsCompleted: 3009 });
    const manifests = await listManifests(store('bytes'), '');
    expect(manifests).toHaveLength(1);
    expect(manifests[0].manifest.files.map((f) => path.basename(f.key))).toEqual([expect.stringMatching(/^\d{8}T\d{6}Z-\d{8}T\d{6}Z\.jsonl\.gz$/)]);
    const files = (await store('bytes').list('')).filter((k) => !k.endsWith('.json'));
    expect(files).toEqual(manifests[0].manifest.files.map((f) => f.key));
    const replayed = await readModelRows(store('bytes'), '', EVENTS_SCHEMA);
    expect(replayed.map((r) => r.uuid).sort()).toEqual(bytePathRows.map((r) => r.uuid).sort());
    expect(manifests[0].manifest.invalid_json_values).toBe(counts(replay.run.replacements).filter((c) => c.startsWith('invalid_json_as_string')).reduce((n, c) => n + Number(c.split('=')[1]), 0));
  });
});
