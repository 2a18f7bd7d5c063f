/**
 * `/metrics` as Prometheus scrapes it: real runs executed by a separate worker process (`dist/src/main.js`,
 * OUTPORT_ROLES=worker, metrics on HEALTH_PORT) and GraphQL requests to an api process; the text format is parsed
 * and the counters must have moved by exactly what the runs did.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { insertBulkEvents } from '../src/source';
import { freePort } from '../src/store/embedded-postgres';
import { startAppHarness, type AppHarness } from './support/app-harness';

const MAIN = path.resolve(__dirname, '..', 'dist', 'src', 'main.js');
const HOUR = 3_600_000;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition format (version 0.0.4): `name{label="value",…} number` lines and # comments. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`not a metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return samples;
}

/** The one sample of `name` whose labels include `labels` (0 when the series does not exist yet). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value ?? 0;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

describe('/metrics', () => {
  let h: AppHarness;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the suite with \`npm test\`, which builds first`);
    h = await startAppHarness({ roles: 'api', env: { RETRY_MAX_ATTEMPTS: '2' } });
  }, 60_000);
  afterAll(async () => {
    worker?.kill('SIGKILL');
    await h?.stop();
  });

  it('counts finished runs, rows, bytes, retries, errors, durations and API requests by operation', async () => {
    const apiMetrics = new URL('/metrics', h.app.apiUrl!).toString();
    const start = new Date('2026-07-01T00:00:00Z');
    await insertBulkEvents(h.ch, { database: h.chDatabase }, { seed: 3, count: 3_000, teams: 1, start, stepMicros: (2 * HOUR * 1000) / 3_000 });

    const exportTo = async (config: Record<string, unknown>, hours: number) => {
      const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
        `mutation CreateDest($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`,
        { c: { ...h.destination, ssl_mode: 'disable', ...config } },
      );
      const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
        `mutation CreateExport($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
        { d: createDestination.id },
      );
      await h.gql(
        `mutation Backfill($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
        { e: createBatchExport.id, s: start.toISOString(), t: new Date(start.getTime() + hours * HOUR).toISOString() },
      );
      return createBatchExport.id;
    };
    const good = await exportTo({ table_name: 'metrics_good' }, 2);
    const bad = await exportTo({ table_name: 'metrics_bad', port: await freePort(), connect_timeout_seconds: 2 }, 1);

    // The api process has no worker: the queue gauges read from the store show the waiting runs.
    await h.waitFor('the queue gauges to show 3 pending runs', async () => {
      const s = await scrape(apiMetrics);
      return value(s, 'outport_queue_jobs', { state: 'ready' }) === 3 && value(s, 'outport_runs_active', { status: 'Starting' }) === 3 && s;
    });
    const pending = await scrape(apiMetrics);
    expect(value(pending, 'outport_oldest_pending_run_age_seconds')).toBeGreaterThan(0);
    expect(value(pending, 'outport_metadata_store_up')).toBe(1);

    const port = await freePort();
    worker = spawn(process.execPath, [MAIN], {
      env: { ...process.env, ...h.env, OUTPORT_ROLES: 'worker', HEALTH_PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let workerLog = '';
    worker.stdout!.on('data', (d) => (workerLog += d));
    const workerMetrics = `http://127.0.0.1:${port}/metrics`;
    type Run = { id: string; batch_export_id: string; status: string; records_completed: string; bytes_exported: string };
    const runs = await h.waitFor('every run to finish', async () => {
      const r: Run[] = await h.app.dataSource.query(`SELECT id, batch_export_id, status, records_completed, bytes_exported FROM runs`);
      return r.length === 3 && r.every((x) => ['Completed', 'Failed'].includes(x.status)) && r;
    }, 50_000);
    expect(runs.map((r) => `${r.batch_export_id === good ? 'good' : 'bad'} ${r.status}`).sort()).toEqual(['bad Failed', 'good Completed', 'good Completed']);
    const goodRuns = runs.filter((r) => r.batch_export_id === good);
    const rows = goodRuns.reduce((n, r) => n + Number(r.records_completed), 0);
    const bytes = goodRuns.reduce((n, r) => n + Number(r.bytes_exported), 0);
    expect(rows).toBe(Number((await h.destinationQuery<{ n: string }>(`SELECT count(*) AS n FROM metrics_good`))[0].n));
    expect(rows).toBeGreaterThan(2_500);

    const w = await scrape(workerMetrics);
    const pg = { destination_type: 'postgres' };
    expect(value(w, 'outport_runs_finished_total', { status: 'Completed', ...pg })).toBe(2);
    expect(value(w, 'outport_runs_finished_total', { status: 'Failed', ...pg })).toBe(1);
    expect(value(w, 'outport_rows_exported_total', pg)).toBe(rows);
    expect(value(w, 'outport_bytes_exported_total', pg)).toBe(bytes);
    expect(bytes).toBeGreaterThan(0);
    // The bad destination: attempt 1 failed and was retried, attempt 2 gave up; both were the destination's errors.
    expect(value(w, 'outport_run_retries_total', pg)).toBe(1);
    expect(value(w, 'outport_errors_total', { kind: 'destination', ...pg })).toBe(2);
    expect(value(w, 'outport_errors_total', { kind: 'source', ...pg })).toBe(0);
    expect(value(w, 'outport_run_duration_seconds_count', { status: 'Completed', ...pg })).toBe(2);
    expect(value(w, 'outport_run_duration_seconds_count', { status: 'Failed', ...pg })).toBe(1);
    // The backfilled intervals closed long ago: each completed run's lag is the time from its interval's end to now.
    expect(value(w, 'outport_run_lag_seconds_count', pg)).toBe(2);
    const expectedLag = [1, 2].reduce((sum, h) => sum + (Date.now() - (start.getTime() + h * HOUR)) / 1000, 0);
    expect(Math.abs(value(w, 'outport_run_lag_seconds_sum', pg) - expectedLag)).toBeLessThan(120);
    expect(value(w, 'outport_queue_jobs', { state: 'ready' })).toBe(0);
    expect(value(w, 'outport_runs_active', { status: 'Starting' })).toBe(0);
    expect(value(w, 'outport_oldest_pending_run_age_seconds')).toBe(0);
    expect(value(w, 'outport_process_cpu_seconds_total')).toBeGreaterThan(0);

    // The run lifecycle lines carry their numbers as fields.
    const entries = workerLog.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    for (const r of goodRuns) {
      const completed = entries.find((e) => e.run === r.id && /^Completed:/.test(e.msg));
      expect(completed).toMatchObject({ team: h.teamId, export: good, attempt: 1, status: 'Completed', rows: Number(r.records_completed), bytes: Number(r.bytes_exported), durationMs: expect.any(Number) });
      expect(entries.find((e) => e.run === r.id && /^Attempt 1 started/.test(e.msg))).toMatchObject({ team: h.teamId, export: good, attempt: 1, model: 'events' });
    }
    const badRun = runs.find((r) => r.batch_export_id === bad)!;
    expect(entries.find((e) => e.run === badRun.id && /failed with a retryable error/.test(e.msg))).toMatchObject({ level: 40, attempt: 1, errorSource: 'destination', retryInMs: expect.any(Number) });
    expect(entries.find((e) => e.run === badRun.id && /^Run failed/.test(e.msg))).toMatchObject({ level: 50, attempt: 2, status: 'Failed', errorSource: 'destination' });

    const a = await scrape(apiMetrics);
    const count = (operation: string) => value(a, 'outport_api_request_duration_seconds_count', { operation, type: 'mutation', outcome: 'ok' });
    expect([count('CreateDest'), count('CreateExport'), count('Backfill')]).toEqual([2, 2, 2]);
    // The api process ran no run: its run counters have no series.
    expect(a.filter((s) => s.name === 'outport_runs_finished_total')).toEqual([]);
  }, 58_000);
});
