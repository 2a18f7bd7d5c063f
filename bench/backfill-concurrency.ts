/**
 * How much faster a backfill of an events export finishes when its runs execute concurrently (the export's
 * `max_concurrent_runs`, issue 13.5), into local files and Postgres. Part of `npm run bench` (its backfill section,
 * flags `--backfill-*`); `npm run bench:backfill` runs it alone (sizes from environment variables, below).
 *
 * - small: `smallRuns` hourly runs of `smallRows` events each (default 720 x 1,000): bound by per-run latency.
 * - large: `largeRuns` hourly runs of `largeRows` events each (default 4 x 250,000): bound by CPU.
 * Each is backfilled with a limit of 1 and of `concurrency` (default 4) through one worker process with
 * `workerSlots` job slots (default: `concurrency`, the same in both modes, so only the export's limit differs). The
 * backfill (its runs and their jobs) is written as createBackfill writes it and timed from commit to its last run
 * finishing. CPU seconds are read from /proc: the worker process's own, and the whole machine's busy time
 * (ClickHouse, Postgres and the worker together; on a shared machine this includes other load).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { insertBulkEvents } from '../src/source';
import { enqueueRun } from '../src/worker/run-queue';
import { startRoleChild, type RoleChild } from './child';
import { openMetadata, outportEnv, type DestinationSpec, type Metadata } from './outport';
import { CH_DATABASE, startServices, type Services } from './services';

const HOUR = 3_600_000;
const SMALL_START = new Date('2026-01-01T00:00:00Z');
const LARGE_START = new Date('2026-03-01T00:00:00Z');

export const BACKFILL_DESTINATIONS = ['local-files', 'postgres'] as const;
export type BackfillDestination = (typeof BACKFILL_DESTINATIONS)[number];

export interface BackfillOptions {
  smallRuns: number;
  smallRows: number;
  largeRuns: number;
  largeRows: number;
  concurrency: number;
  workerSlots: number;
  destinations: BackfillDestination[];
}

export const DEFAULT_BACKFILL: BackfillOptions = {
  smallRuns: 720, smallRows: 1000, largeRuns: 4, largeRows: 250_000, concurrency: 4, workerSlots: 4, destinations: [...BACKFILL_DESTINATIONS],
};

export interface BackfillReport {
  settings: BackfillOptions;
  results: BackfillResult[];
  /** Serial seconds over concurrent seconds, per destination and scenario. */
  speedups: { destination: string; scenario: Scenario['name']; speedup: number }[];
  /** Peak RSS of the one worker process that ran every backfill, MiB. */
  workerPeakRssMiB: number;
}

export interface Scenario {
  name: 'small' | 'large';
  start: Date;
  runs: number;
  rowsPerRun: number;
}

export interface BackfillResult {
  destination: string;
  scenario: Scenario['name'];
  maxConcurrentRuns: number;
  runs: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  runsPerSecond: number;
  /** Mean of finished_at - started_at over the runs. */
  meanRunSeconds: number;
  workerCpuSeconds: number;
  machineCpuSeconds: number;
  workerCpuMicrosPerRow: number;
  machineCpuMicrosPerRow: number;
  /** CPU milliseconds per run of the embedded ClickHouse, the metadata Postgres and the worker (servicesCpuSeconds). */
  cpuMsPerRun: Record<string, number>;
  /** Most runs executing at one instant, from the runs' started/finished times. */
  maxOverlap: number;
  failed: number;
}

const CLK_TCK = 100; // Linux USER_HZ on every architecture Node supports
function processCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
}
function machineBusySeconds(): number {
  const [, ...t] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const idle = t[3] + t[4];
  return (t.reduce((a, b) => a + b, 0) - idle) / CLK_TCK;
}

async function backfill(m: Metadata, worker: RoleChild, dest: DestinationSpec, label: string, sc: Scenario, limit: number, log: (s: string) => void): Promise<BackfillResult> {
  const { db } = m;
  const name = `${label}_${sc.name}_c${limit}`;
  const config = dest.type === 'postgres' ? { ...dest.config, table_name: name } : { ...dest.config, path: name };
  const [d] = (await db.query(`INSERT INTO destinations (team_id, name, type, config, encrypted_secrets) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [
    m.teamId, name, dest.type, config, dest.secrets ? m.box.encrypt(dest.secrets) : null,
  ])).rows;
  const end = new Date(sc.start.getTime() + sc.runs * HOUR);
  const [e] = (await db.query(
    `INSERT INTO batch_exports (team_id, name, destination_id, model, interval, scheduled_until, max_concurrent_runs) VALUES ($1, $2, $3, 'events', 'hour', $4, $5) RETURNING id`,
    [m.teamId, name, d.id, end, limit],
  )).rows;
  const services0 = servicesCpuSeconds();
  const cpu0 = processCpuSeconds(worker.pid);
  const busy0 = machineBusySeconds();
  const t0 = Date.now();
  await db.query('BEGIN');
  const [b] = (await db.query(
    `INSERT INTO backfills (team_id, batch_export_id, start_at, end_at, status, total_runs) VALUES ($1, $2, $3, $4, 'Starting', $5) RETURNING id`,
    [m.teamId, e.id, sc.start, end, sc.runs],
  )).rows;
  const runs = (await db.query(
    `INSERT INTO runs (team_id, batch_export_id, backfill_id, interval_start, interval_end, status, trigger)
     SELECT $1, $2, $3, s, s + interval '1 hour', 'Starting', 'backfill' FROM generate_series($4::timestamptz, $5::timestamptz - interval '1 hour', interval '1 hour') s
     ORDER BY s RETURNING id`,
    [m.teamId, e.id, b.id, sc.start, end],
  )).rows as { id: string }[];
  for (const r of runs) await enqueueRun(db, { id: r.id, batchExportId: e.id });
  await db.query('COMMIT');
  for (;;) {
    const [p] = (await db.query(`SELECT count(*) FILTER (WHERE status NOT IN ('Completed', 'Failed', 'Cancelled', 'TimedOut'))::int AS open FROM runs WHERE backfill_id = $1`, [b.id])).rows;
    if (p.open === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const [last] = (await db.query(`SELECT max(finished_at) AS at FROM runs WHERE backfill_id = $1`, [b.id])).rows;
  const seconds = (new Date(last.at).getTime() - t0) / 1000;
  const workerCpuSeconds = processCpuSeconds(worker.pid) - cpu0;
  const machineCpuSeconds = machineBusySeconds() - busy0;
  const services1 = servicesCpuSeconds();
  const done = (await db.query(
    `SELECT status, records_completed::bigint AS rows, started_at, finished_at FROM runs WHERE backfill_id = $1`,
    [b.id],
  )).rows as { status: string; rows: string; started_at: Date; finished_at: Date }[];
  const rows = done.reduce((a, r) => a + Number(r.rows), 0);
  const edges = done.filter((r) => r.started_at).flatMap((r) => [{ t: +r.started_at, d: 1 }, { t: +r.finished_at, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let maxOverlap = 0;
  for (const x of edges) maxOverlap = Math.max(maxOverlap, (now += x.d));
  const result: BackfillResult = {
    destination: label,
    scenario: sc.name,
    maxConcurrentRuns: limit,
    runs: done.length,
    rows,
    seconds: round(seconds),
    rowsPerSecond: Math.round(rows / seconds),
    runsPerSecond: round(done.length / seconds),
    meanRunSeconds: round(done.filter((r) => r.started_at).reduce((a, r) => a + (+r.finished_at - +r.started_at), 0) / Math.max(1, done.filter((r) => r.started_at).length) / 1000),
    workerCpuSeconds: round(workerCpuSeconds),
    machineCpuSeconds: round(machineCpuSeconds),
    workerCpuMicrosPerRow: round((workerCpuSeconds * 1e6) / Math.max(rows, 1)),
    machineCpuMicrosPerRow: round((machineCpuSeconds * 1e6) / Math.max(rows, 1)),
    cpuMsPerRun: Object.fromEntries(Object.entries(services1).map(([role, s1]) => [role, round(((s1 - (services0[role] ?? 0)) * 1000) / Math.max(done.length, 1))])),
    maxOverlap,
    failed: done.filter((r) => r.status !== 'Completed').length,
  };
  if (rows !== sc.runs * sc.rowsPerRun || result.failed) log(`  WARNING ${name}: ${rows} rows landed of ${sc.runs * sc.rowsPerRun}, ${result.failed} runs not completed`);
  log(`  ${label}, ${sc.runs} x ${sc.rowsPerRun.toLocaleString('en-US')} events, max_concurrent_runs ${limit}: ${result.seconds} s, ${result.rowsPerSecond.toLocaleString('en-US')} rows/s, most runs at once ${maxOverlap}, CPU ms per run ${JSON.stringify(result.cpuMsPerRun)}`);
  return result;
}

/**
 * CPU seconds so far of this process's descendants by role: the embedded ClickHouse, the metadata Postgres (its
 * backends alive now) and the worker. The machine's busy time includes whatever else runs on a shared machine; this
 * tells the source's, the store's and the worker's shares of a run apart.
 */
function servicesCpuSeconds(): Record<string, number> {
  const out: Record<string, number> = {};
  const kids = (pid: number): number[] => {
    try {
      return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return []; // the process ended meanwhile
    }
  };
  const walk = (pid: number) => {
    for (const k of kids(pid)) {
      try {
        const stat = fs.readFileSync(`/proc/${k}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const cmd = fs.readFileSync(`/proc/${k}/cmdline`, 'utf8');
        const role = cmd.includes('embedded-clickhouse') ? 'clickhouse' : cmd.includes('role-child') ? 'worker' : name.startsWith('postgres') ? 'postgres' : undefined;
        if (role) out[role] = (out[role] ?? 0) + processCpuSeconds(k);
      } catch {
        // the process ended meanwhile
      }
      walk(k);
    }
  };
  walk(process.pid);
  return out;
}

const round = (x: number) => Math.round(x * 100) / 100;

function scenariosOf(o: BackfillOptions): Scenario[] {
  return ([
    { name: 'small', start: SMALL_START, runs: o.smallRuns, rowsPerRun: o.smallRows },
    { name: 'large', start: LARGE_START, runs: o.largeRuns, rowsPerRun: o.largeRows },
  ] as Scenario[]).filter((sc) => sc.runs > 0 && sc.rowsPerRun > 0);
}

/** The backfills' events for team 1, outside every other interval of the benchmark: evenly spaced, each hour exactly rowsPerRun. */
export async function generateBackfillData(s: Services, o: BackfillOptions): Promise<void> {
  for (const [i, sc] of scenariosOf(o).entries()) {
    await insertBulkEvents(s.ch, { database: CH_DATABASE }, {
      seed: 100 + i, count: sc.runs * sc.rowsPerRun, teams: 1, start: sc.start, stepMicros: (HOUR * 1000) / sc.rowsPerRun, insertDelayMicros: 0,
    });
  }
}

export async function runBackfills(s: Services, m: Metadata, o: BackfillOptions, log: (s: string) => void): Promise<BackfillReport> {
  const worker = await startRoleChild({ env: outportEnv(s, m, 'worker', { WORKER_CONCURRENCY: String(o.workerSlots), OUTPORT_LOCAL_FILES_ROOT: path.join(s.root, 'backfill-exports') }) });
  try {
    const destinations: Record<BackfillDestination, DestinationSpec> = {
      'local-files': { type: 'local-files', config: { file_format: 'JSONLines', compression: 'gzip' } },
      postgres: {
        type: 'postgres',
        config: { host: s.destination.host, port: s.destination.port, database: s.destination.database, user: s.destination.user, schema: 'public', ssl_mode: 'disable' },
        secrets: { password: s.destination.password },
      },
    };
    const results: BackfillResult[] = [];
    for (const label of o.destinations) {
      for (const sc of scenariosOf(o)) {
        for (const limit of [1, o.concurrency]) results.push(await backfill(m, worker, destinations[label], label, sc, limit, log));
      }
    }
    const speedups = results
      .filter((r) => r.maxConcurrentRuns === o.concurrency && o.concurrency !== 1)
      .map((r) => {
        const serial = results.find((x) => x.destination === r.destination && x.scenario === r.scenario && x.maxConcurrentRuns === 1)!;
        return { destination: r.destination, scenario: r.scenario, speedup: round(serial.seconds / r.seconds) };
      });
    return { settings: o, results, speedups, workerPeakRssMiB: Math.round(worker.peakRssMiB()) };
  } finally {
    await worker.stop();
  }
}

/** `npm run bench:backfill`: the backfill section alone, sizes from SMALL_RUNS, SMALL_ROWS, LARGE_RUNS, LARGE_ROWS, CONCURRENCY, WORKER_CONCURRENCY, DESTINATIONS. */
async function main(): Promise<void> {
  const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const concurrency = num('CONCURRENCY', DEFAULT_BACKFILL.concurrency);
  const o: BackfillOptions = {
    smallRuns: num('SMALL_RUNS', DEFAULT_BACKFILL.smallRuns),
    smallRows: num('SMALL_ROWS', DEFAULT_BACKFILL.smallRows),
    largeRuns: num('LARGE_RUNS', DEFAULT_BACKFILL.largeRuns),
    largeRows: num('LARGE_ROWS', DEFAULT_BACKFILL.largeRows),
    concurrency,
    workerSlots: num('WORKER_CONCURRENCY', concurrency),
    destinations: (process.env.DESTINATIONS?.split(',') ?? [...BACKFILL_DESTINATIONS]) as BackfillDestination[],
  };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-backfill-bench-'));
  const s = await startServices(root);
  let m: Metadata | undefined;
  try {
    await generateBackfillData(s, o);
    m = await openMetadata(s);
    if (m.teamId !== 1) throw new Error(`the benchmark team got id ${m.teamId}; the data was generated for team 1`);
    const report = {
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadavg: os.loadavg() },
      ...(await runBackfills(s, m, o, (line) => console.error(line))),
    };
    console.log(JSON.stringify(report, null, 2));
    const out = path.join(__dirname, '..', '..', 'bench', 'results');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'backfill-concurrency.json'), JSON.stringify(report, null, 2) + '\n');
  } finally {
    await m?.db.end();
    await s.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
