/**
 * Faults on the byte path (ClickHouse encodes, the worker streams bytes into S3 multipart uploads), with real
 * processes and real TCP cuts: a worker process SIGKILLed mid-stream, the source cut mid-stream, the destination
 * cut mid-stream. After each, the bucket read back independently holds every row of the run exactly once, in
 * files the run's one manifest lists (no stray part of a dead attempt), and the run says Completed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { listManifests, readRun } from '../../src/sdk/files';
import { EVENTS_SCHEMA } from '../../src/sdk/models';
import { insertBulkEvents } from '../../src/source';
import { freshS3Config, storeFor, testS3 } from '../conformance/fixtures/s3';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { backfillHours, exportTo, finishedRun, runMessages, runRow } from '../support/export-runs';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');
const HOUR = 3_600_000;
const ROWS = 100_000;
jest.setTimeout(240_000);

describe('faults on the byte path (S3)', () => {
  let h: AppHarness;
  let source: TcpProxy;
  let s3: TcpProxy;
  const children: ChildProcess[] = [];
  let hourIndex = 0;

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the suite with \`npm test\`, which builds first`);
    const ch = new URL(process.env.OUTPORT_TEST_CLICKHOUSE_URL!);
    source = await startTcpProxy(Number(ch.port), ch.hostname);
    const viaProxy = new URL(ch);
    viaProxy.host = `127.0.0.1:${source.port}`;
    s3 = await startTcpProxy(Number(new URL(testS3().endpoint).port));
    h = await startAppHarness({
      roles: 'api',
      env: {
        CLICKHOUSE_URL: viaProxy.toString().replace(/\/$/, ''),
        HEARTBEAT_TIMEOUT_SECONDS: '4',
        RETRY_MAX_ATTEMPTS: '30',
        RETRY_INITIAL_SECONDS: '1',
        RETRY_MAX_SECONDS: '3',
      },
    });
  }, 120_000);
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await h?.stop();
    await source?.close();
    await s3?.close();
  });

  const worker = () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...h.env, OUTPORT_ROLES: 'worker', LOG_LEVEL: process.env.DEBUG_WORKER ? 'debug' : 'warn' },
      stdio: ['ignore', process.env.DEBUG_WORKER ? 'inherit' : 'ignore', 'pipe'],
    });
    child.stderr!.on('data', () => undefined);
    children.push(child);
    return child;
  };

  /** A fresh bucket reached through the S3 proxy, an export to it with `fileOptions`, and one hour of events. */
  async function setUp(fileOptions: Record<string, unknown>) {
    const start = new Date(Date.UTC(2026, 7, 1, hourIndex++));
    await insertBulkEvents(h.ch, { database: h.chDatabase }, { seed: 40 + hourIndex, count: ROWS, teams: 1, start, stepMicros: 20_000 });
    const direct = await freshS3Config(fileOptions);
    const config = { ...direct, endpoint_url: `http://127.0.0.1:${s3.port}` };
    const { exportId } = await exportTo(h, 's3', config);
    const [runId] = await backfillHours(h, exportId, start);
    return { direct, exportId, runId };
  }

  /** Every data file in the export's folder belongs to the run's one manifest, and its rows are the run's, once. */
  async function expectExactlyOnce(direct: Awaited<ReturnType<typeof freshS3Config>>, exportId: string) {
    const { store, close } = storeFor(direct);
    try {
      const manifests = (await listManifests(store, '')).filter((m) => m.manifest.export_id === exportId);
      expect(manifests).toHaveLength(1);
      const { manifest } = manifests[0];
      const keys = await store.list('');
      // The run's attempt record (`_attempt.json`, the takeover fence of run-writer.ts) stays beside its files.
      const data = keys.filter((k) => k.includes(`export_id=${exportId}`) && k !== manifests[0].key && !k.endsWith('_attempt.json'));
      expect(data.sort()).toEqual(manifest.files.map((f) => f.key).sort());
      const rows = await readRun(store, manifest, EVENTS_SCHEMA);
      expect(rows).toHaveLength(ROWS);
      expect(new Set(rows.map((r) => r.uuid)).size).toBe(ROWS);
      expect(manifest.rows).toBe(ROWS);
    } finally {
      close();
    }
  }

  it('a worker killed mid-stream is taken over and the files hold every row once', async () => {
    expect(h.teamId).toBe(1); // the bulk generator writes team 1
    // Small files, so the dead attempt has completed several parts (and multipart uploads) before the kill.
    const { direct, exportId, runId } = await setUp({ file_format: 'JSONLines', compression: 'gzip', max_file_size_mb: 1 });
    const first = worker();
    const victim = await h.waitFor('the first worker to stream bytes', async () => {
      const r = await runRow(h, runId);
      return r.status === 'Running' && Number(r.bytes_exported) > 2 * 1024 * 1024 && r;
    }, 90_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    worker();
    const done = await finishedRun(h, runId, 120_000);
    expect(done.status).toBe('Completed');
    expect(done.attempt).toBeGreaterThanOrEqual(2);
    expect(done.worker_id).not.toBe(victim.worker_id);
    expect(Number(done.records_completed)).toBe(ROWS);
    await expectExactlyOnce(direct, exportId);
    expect((await runMessages(h, runId)).some((m) => /stopped heartbeating/.test(m))).toBe(true);
  });

  it('the source cut mid-stream is a reading failure, retried, and the files hold every row once', async () => {
    if (!children.some((c) => c.exitCode === null)) worker();
    // Uncompressed JSON Lines stream steadily from the first row (Parquet arrives a row group at a time).
    const { direct, exportId, runId } = await setUp({ file_format: 'JSONLines', compression: 'none' });
    await h.waitFor('bytes to stream', async () => {
      const r = await runRow(h, runId);
      return r.status === 'Running' && Number(r.bytes_exported) > 1024 * 1024;
    }, 90_000);
    source.up = false;
    await h.waitFor('the cut attempt to fail', async () => {
      const r = await runRow(h, runId);
      if (r.status === 'Completed') throw new Error('the run completed before the cut: the test did not cut it mid-stream');
      return r.status === 'FailedRetryable';
    }, 60_000).finally(() => {
      source.up = true;
    });
    const failed = await runRow(h, runId);
    source.up = true;
    expect(failed.latest_error).toMatch(/^Reading from ClickHouse failed: /);
    const done = await finishedRun(h, runId, 120_000);
    expect(done.status).toBe('Completed');
    expect(Number(done.records_completed)).toBe(ROWS);
    await expectExactlyOnce(direct, exportId);
  });

  it('the destination cut mid-stream is a writing failure, retried, and the files hold every row once', async () => {
    if (!children.some((c) => c.exitCode === null)) worker();
    const { direct, exportId, runId } = await setUp({ file_format: 'JSONLines', compression: 'none', max_file_size_mb: 10 });
    await h.waitFor('bytes to stream', async () => {
      const r = await runRow(h, runId);
      return r.status === 'Running' && Number(r.bytes_exported) > 2 * 1024 * 1024;
    }, 90_000);
    s3.up = false;
    await h.waitFor('the cut attempt to fail', async () => {
      const r = await runRow(h, runId);
      if (r.status === 'Completed') throw new Error('the run completed before the cut: the test did not cut it mid-stream');
      return r.status === 'FailedRetryable';
    }, 90_000).finally(() => {
      s3.up = true;
    });
    const failed = await runRow(h, runId);
    s3.up = true;
    expect(failed.latest_error).not.toMatch(/Reading from ClickHouse/);
    const done = await finishedRun(h, runId, 120_000);
    expect(done.status).toBe('Completed');
    expect(Number(done.records_completed)).toBe(ROWS);
    await expectExactlyOnce(direct, exportId);
  });
});
