/**
 * `npm run bench`: Outport's throughput next to the limits of the systems it connects, on the same data and the
 * same servers, plus the worker's peak memory and a scale check of the scheduler and the API.
 * `npm run bench -- --help` lists the flags. Results: printed table and bench/results/latest.json.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Model } from '../src/sdk';
import { generateEventsData, generatePersonsData, EVENTS_INTERVAL, TEAM_ID, type Generated, type PersonsData } from './data';
import { fileLimit, postgresLimit, queryFor, renderCopyFile, s3Limit, sourceLimit, type Measurement, type S3Format } from './limits';
import { BACKFILL_DESTINATIONS, DEFAULT_BACKFILL, generateBackfillData, runBackfills, type BackfillDestination, type BackfillOptions, type BackfillReport } from './backfill-concurrency';
import { bigQueryDestination, redshiftDestination, snowflakeDestination, startWarehouses, type Warehouses } from './fakes';
import { openMetadata, runThroughOutport, type DestinationSpec, type Metadata, type OutportRun } from './outport';
import { summarizeProfile, type ProfileSummary } from './profile';
import { runScale, type ScaleResult } from './scale';
import { S3_BUCKET, startServices, type Services } from './services';
import { bigQueryLimit, redshiftLimit, REDSHIFT_LIMIT_MAX_ROWS, snowflakeLimit } from './warehouse-limits';

export const DESTINATIONS = ['postgres', 's3-parquet', 's3-jsonl', 'local-files', 'redshift', 'bigquery', 'snowflake'] as const;
export type DestinationKey = (typeof DESTINATIONS)[number];

/** Issue 13's targets for Outport / limit at 1M events: the stand-ins of the cloud warehouses get 0.7. */
export const RATIO_TARGETS: Record<DestinationKey, number> = {
  postgres: 0.8, 's3-parquet': 0.8, 's3-jsonl': 0.8, 'local-files': 0.8, redshift: 0.7, bigquery: 0.7, snowflake: 0.7,
};
const RSS_TARGET_MIB = 200;
const BACKFILL_SPEEDUP_TARGET = 3;
const BACKFILL_LARGE_RATIO_TARGET = 0.8;

const HELP = `npm run bench -- [flags]

  --events N          events generated and exported (default 1000000)
  --persons N         persons for the persons-merge run (default 200000; 0 skips it)
  --exports N         hourly exports for the scale section (default 10000)
  --requests N        API requests per list query in the scale section (default 200)
  --destinations L    comma list of ${DESTINATIONS.join(',')} (default all)
  --paths L           which Outport runs per destination: bytes = Outport's default path (the byte path where the
                      plugin has one, else rows), rows = the row path forced with OUTPORT_DATA_PATH=rows (run only
                      when the default was the byte path). Default bytes,rows
  --skip-limits       do not measure the limits (source read, COPY, ClickHouse s3(), the stand-ins' own loads)
  --skip-outport      do not run Outport end to end
  --skip-backfill     skip the backfill section (concurrency 1 vs N)
  --backfill-small R,N   small backfill: R hourly runs of N events (default ${DEFAULT_BACKFILL.smallRuns},${DEFAULT_BACKFILL.smallRows}; 0,0 skips it)
  --backfill-large R,N   large backfill: R hourly runs of N events (default ${DEFAULT_BACKFILL.largeRuns},${DEFAULT_BACKFILL.largeRows}; 0,0 skips it)
  --backfill-concurrency N  max_concurrent_runs compared with 1 (default ${DEFAULT_BACKFILL.concurrency}; also the worker's job slots)
  --backfill-destinations L comma list of ${BACKFILL_DESTINATIONS.join(',')} (default both)
  --skip-scale        skip the scheduler/API scale section
  --memory-check      the 5M-event memory check: --events 5000000 (unless given) --persons 0 --paths bytes
                      --skip-limits --skip-backfill --skip-scale; every destination unless --destinations
  --profile           write a CPU profile of each Outport worker run (node --cpu-prof) to bench/results/profiles/
                      and print where its time went
  --worker-node-options S  NODE_OPTIONS for the Outport worker processes (e.g. "--max-old-space-size=160")
  --out FILE          results file (default bench/results/latest.json)
  --keep              keep the temporary data directory
  --help              this text

A quick run: npm run bench -- --events 100000 --persons 10000 --skip-scale --backfill-small 48,1000 --backfill-large 2,20000
`;

export interface Options {
  events: number;
  persons: number;
  exports: number;
  requests: number;
  destinations: DestinationKey[];
  skipLimits: boolean;
  /** bytes: Outport's default path per destination; rows: the row path forced, for comparison. */
  paths: ('bytes' | 'rows')[];
  skipOutport: boolean;
  skipBackfill: boolean;
  backfill: BackfillOptions;
  skipScale: boolean;
  memoryCheck: boolean;
  profile: boolean;
  workerNodeOptions?: string;
  out: string;
  keep: boolean;
}

const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'bench', 'results');

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    events: 1_000_000, persons: 200_000, exports: 10_000, requests: 200, destinations: [...DESTINATIONS],
    skipLimits: false, paths: ['bytes', 'rows'], skipOutport: false, skipBackfill: false, backfill: { ...DEFAULT_BACKFILL }, skipScale: false,
    memoryCheck: false, profile: false, out: path.join(RESULTS_DIR, 'latest.json'), keep: false,
  };
  const int = (flag: string, v: string | undefined, min: number) => {
    const n = Number(v?.replace(/_/g, ''));
    if (v === undefined || v === '' || !Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min} (got ${JSON.stringify(v)})`);
    return n;
  };
  const list = <T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T[] => {
    const items = String(v ?? '').split(',').filter(Boolean);
    const bad = items.filter((d) => !(allowed as readonly string[]).includes(d));
    if (bad.length || !items.length) throw new Error(`${flag} takes a comma list of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
    return items as T[];
  };
  const pair = (flag: string, v: string | undefined): [number, number] => {
    const [runs, rows, ...rest] = String(v ?? '').split(',');
    if (rest.length || rows === undefined) throw new Error(`${flag} takes RUNS,EVENTS_PER_RUN, e.g. 720,1000 (got ${JSON.stringify(v)})`);
    return [int(`${flag} runs`, runs, 0), int(`${flag} events per run`, rows, 0)];
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    given.add(a);
    switch (a) {
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0);
      case '--events': o.events = int(a, argv[++i], 1); break;
      case '--persons': o.persons = int(a, argv[++i], 0); break;
      case '--exports': o.exports = int(a, argv[++i], 1); break;
      case '--requests': o.requests = int(a, argv[++i], 1); break;
      case '--destinations': o.destinations = list(a, argv[++i], DESTINATIONS); break;
      case '--skip-limits': o.skipLimits = true; break;
      case '--paths': o.paths = list(a, argv[++i], ['bytes', 'rows'] as const); break;
      case '--skip-outport': o.skipOutport = true; break;
      case '--skip-backfill': o.skipBackfill = true; break;
      case '--backfill-small': [o.backfill.smallRuns, o.backfill.smallRows] = pair(a, argv[++i]); break;
      case '--backfill-large': [o.backfill.largeRuns, o.backfill.largeRows] = pair(a, argv[++i]); break;
      case '--backfill-concurrency': o.backfill.concurrency = o.backfill.workerSlots = int(a, argv[++i], 2); break;
      case '--backfill-destinations': o.backfill.destinations = list<BackfillDestination>(a, argv[++i], BACKFILL_DESTINATIONS); break;
      case '--skip-scale': o.skipScale = true; break;
      case '--memory-check': o.memoryCheck = true; break;
      case '--profile': o.profile = true; break;
      case '--worker-node-options': o.workerNodeOptions = argv[++i]; break;
      case '--keep': o.keep = true; break;
      case '--out': o.out = path.resolve(argv[++i] ?? ''); break;
      default: throw new Error(`unknown flag ${a}; see npm run bench -- --help`);
    }
  }
  if (o.memoryCheck) {
    if (!given.has('--events')) o.events = 5_000_000;
    if (!given.has('--persons')) o.persons = 0;
    if (!given.has('--paths')) o.paths = ['bytes'];
    o.skipLimits = o.skipBackfill = o.skipScale = true;
  }
  return o;
}

/** One line of the table: a limit or an Outport run. */
export interface Line {
  group: string;
  what: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Source volume (the rows as JSON text from ClickHouse) per second: the same yardstick on every line. */
  mbPerSecond: number | null;
  outputMB: number | null;
  workerPeakRssMiB: number | null;
  /** V8 heap / external / arrayBuffers inside the worker at its peak, MiB. */
  workerPeakMemory?: Record<string, number>;
  phases?: OutportRun['phases'];
  /** Outport's rows/s over the limit's (Outport lines only). */
  ratioToLimit: number | null;
  limitOf?: string;
  /** Outport lines: the data path the worker took, and whether that was its own choice (not forced to rows). */
  dataPath?: 'bytes' | 'rows';
  defaultPath?: boolean;
  status?: string;
  note?: string;
}

const log = (s: string) => console.log(s);
const MB = 1024 * 1024;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const machine = {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtStart: loadAverage(),
    loadAverageAtEnd: [] as number[],
  };
  log(`Outport benchmark: ${o.events.toLocaleString('en-US')} events on ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; load average ${machine.loadAverageAtStart.join(', ')}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-bench-'));
  const profileDir = path.join(RESULTS_DIR, 'profiles');
  if (o.profile) fs.mkdirSync(profileDir, { recursive: true });
  const s = await startServices(root);
  const lines: Line[] = [];
  const profiles: Record<string, ProfileSummary> = {};
  let generated: Generated | undefined;
  let personsData: PersonsData | undefined;
  let scale: ScaleResult | undefined;
  let backfill: BackfillReport | undefined;
  const sourceBytes: Partial<Record<Model, number>> = {};
  const limitRate: Record<string, number> = {};
  let m: Metadata | undefined;
  let w: Warehouses | undefined;
  // One failed measurement is a line saying why, not the end of a long benchmark.
  const attempt = async (group: string, what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      log(`  ${what} FAILED: ${(err as Error).stack ?? err}`);
      lines.push({ group, what, rows: 0, seconds: 0, rowsPerSecond: 0, mbPerSecond: null, outputMB: null, workerPeakRssMiB: null, ratioToLimit: null, status: 'Error', note: `NOT OK: ${(err as Error).message}` });
    }
  };
  try {
    const wants = (d: DestinationKey) => o.destinations.includes(d);
    if (!o.skipLimits || !o.skipOutport) w = await startWarehouses(s, { bigquery: wants('bigquery'), snowflake: wants('snowflake') });
    log('Generating data in the embedded ClickHouse...');
    generated = await generateEventsData(s.ch, o.events, log);
    log(`  ${generated.rows.toLocaleString('en-US')} events in ${generated.seconds.toFixed(1)} s; properties JSON median ${generated.propertiesBytes.median} B, mean ${generated.propertiesBytes.mean} B`);
    if (o.persons > 0) {
      personsData = await generatePersonsData(s.ch, o.persons);
      log(`  ${o.persons.toLocaleString('en-US')} persons (${personsData.versionRows.toLocaleString('en-US')} version rows) in ${personsData.seconds.toFixed(1)} s`);
    }
    if (!o.skipBackfill) {
      const b = o.backfill;
      log(`  backfill data: ${b.smallRuns} x ${b.smallRows.toLocaleString('en-US')} and ${b.largeRuns} x ${b.largeRows.toLocaleString('en-US')} events`);
      await generateBackfillData(s, b);
    }
    const eventsQ = queryFor('events', EVENTS_INTERVAL, TEAM_ID);
    const personsQ = personsData ? queryFor('persons', personsData.interval, TEAM_ID) : undefined;

    // The source read is also the yardstick for MB/s, so it runs even with --skip-limits.
    log('Source limit: the events query through @clickhouse/client, rows discarded...');
    const src = await sourceLimit(s, eventsQ);
    sourceBytes.events = src.sourceBytes;
    expectRows('source read', src.rows, o.events);
    lines.push(limitLine('source', 'ClickHouse read (events query, discard)', src, src.sourceBytes));
    limitRate.source = src.rows / src.seconds;
    let personsSrc: Measurement | undefined;
    if (personsQ) {
      personsSrc = await sourceLimit(s, personsQ);
      sourceBytes.persons = personsSrc.sourceBytes;
      lines.push(limitLine('persons', 'ClickHouse read (persons query, discard)', personsSrc, personsSrc.sourceBytes));
      limitRate.personsSource = personsSrc.rows / personsSrc.seconds;
    }

    if (!o.skipLimits) {
      const limit = async (key: string, label: string, measure: () => Promise<Measurement>, expected = o.events) =>
        attempt(key, label, async () => {
          log(`Limit: ${label}...`);
          const r = await measure();
          expectRows(label, r.rows, expected);
          lines.push(limitLine(key, label, r, key === 'persons' ? sourceBytes.persons : sourceBytes.events));
          log(`  ${Math.round(r.rows / r.seconds).toLocaleString('en-US')} rows/s (${r.seconds.toFixed(1)} s)`);
          limitRate[key === 'persons' ? 'personsPostgres' : key] = r.rows / r.seconds;
        });
      if (wants('postgres')) {
        await limit('postgres', 'COPY file → Postgres table (same DDL)', async () => {
          const file = path.join(root, 'events.copy');
          const rendered = await renderCopyFile(s, eventsQ, file);
          try {
            return await postgresLimit(s, 'events', file, rendered);
          } finally {
            fs.rmSync(file, { force: true });
          }
        });
      }
      if (personsQ && personsSrc) {
        await limit('persons', 'COPY file → Postgres persons table (same DDL)', async () => {
          const file = path.join(root, 'persons.copy');
          const rendered = await renderCopyFile(s, personsQ, file);
          try {
            return await postgresLimit(s, 'persons', file, rendered);
          } finally {
            fs.rmSync(file, { force: true });
          }
        }, personsSrc.rows);
      }
      for (const [key, format, label] of [
        ['s3-parquet', 'parquet-zstd', 'ClickHouse INSERT INTO FUNCTION s3() Parquet zstd (Outport\'s columns)'],
        ['s3-jsonl', 'jsonl-gzip', 'ClickHouse INSERT INTO FUNCTION s3() JSON Lines gzip (Outport\'s shape)'],
      ] as [DestinationKey, S3Format, string][]) {
        if (wants(key)) await limit(key, label, () => s3Limit(s, eventsQ, format));
      }
      if (wants('local-files')) {
        await limit('local-files', 'ClickHouse INSERT INTO FUNCTION file() JSON Lines gzip (Outport\'s shape)', () => fileLimit(s, eventsQ, 'jsonl-gzip', path.join(root, 'limit-files')));
      }
      if (wants('redshift')) {
        if (o.events > REDSHIFT_LIMIT_MAX_ROWS) log(`Redshift limit skipped: it holds the rendered INSERT statements in memory (up to ${REDSHIFT_LIMIT_MAX_ROWS.toLocaleString('en-US')} events)`);
        else await limit('redshift', 'INSERT statements (the plugin\'s, pre-rendered) → Postgres stand-in', () => redshiftLimit(s, eventsQ));
      }
      if (wants('bigquery')) await limit('bigquery', 'Fake BigQuery load jobs of the plugin\'s NDJSON (real SDK)', () => bigQueryLimit(s, w!, eventsQ, path.join(root, 'limit-bigquery')));
      if (wants('snowflake')) await limit('snowflake', 'Fake Snowflake PUT + COPY INTO of the plugin\'s gzip JSON Lines', () => snowflakeLimit(s, w!, eventsQ, path.join(root, 'limit-snowflake')));
    }

    if (!o.skipOutport) {
      m = await openMetadata(s);
      if (m.teamId !== TEAM_ID) throw new Error(`the benchmark team got id ${m.teamId}, the data was generated for team ${TEAM_ID}`);
      const pgDest = (table?: string): DestinationSpec => ({
        type: 'postgres',
        config: { host: s.destination.host, port: s.destination.port, database: s.destination.database, user: s.destination.user, schema: 'public', ssl_mode: 'disable', ...(table ? { table_name: table } : {}) },
        secrets: { password: s.destination.password },
      });
      const s3Dest = (file_format: string, compression: string, prefix: string): DestinationSpec => ({
        type: 's3',
        config: { bucket_name: S3_BUCKET, endpoint_url: s.s3.endpoint, force_path_style: true, region: 'us-east-1', aws_access_key_id: s.s3.accessKeyId, file_format, compression, prefix },
        secrets: { aws_secret_access_key: s.s3.secretAccessKey },
      });
      // Each run lands in its own table or prefix: a second run into the same table would find its keys there.
      const runs: Record<DestinationKey, [string, (tag: string) => DestinationSpec]> = {
        postgres: ['Outport events → Postgres', (tag) => pgDest(`events_${tag}`)],
        's3-parquet': ['Outport events → S3 Parquet zstd', (tag) => s3Dest('Parquet', 'zstd', `outport-parquet-${tag}/{table}`)],
        's3-jsonl': ['Outport events → S3 JSONL gzip', (tag) => s3Dest('JSONLines', 'gzip', `outport-jsonl-${tag}/{table}`)],
        'local-files': ['Outport events → local files JSONL gzip', () => ({ type: 'local-files', config: { path: 'local-exports', file_format: 'JSONLines', compression: 'gzip' } })],
        redshift: ['Outport events → Redshift insert mode (Postgres stand-in)', (tag) => redshiftDestination(s, `events_redshift_${tag}`)],
        bigquery: ['Outport events → BigQuery (fake)', (tag) => bigQueryDestination(w!, `events_${tag}`)],
        snowflake: ['Outport events → Snowflake (fake)', (tag) => snowflakeDestination(w!, `EVENTS_${tag.toUpperCase()}`)],
      };
      for (const key of o.destinations) {
        const [label, spec] = runs[key];
        let defaultPath: 'bytes' | 'rows' | undefined;
        // The default path first (its line carries the destination's ratioToLimit); then the row path forced, when the
        // default was the byte path (a plugin without one already ran on rows).
        for (const forced of [false, true]) {
          if (!forced && !o.paths.includes('bytes')) continue;
          if (forced && (!o.paths.includes('rows') || defaultPath === 'rows')) continue;
          const tag = forced ? 'rows' : 'default';
          const name = `events-${key}-${tag}`;
          const pending = forced ? `${label} (rows path, forced)` : `${label} (default path)`;
          await attempt(key, pending, async () => {
            log(`${pending}...`);
            const r = await runThroughOutport(s, m!, {
              name, model: 'events', exportInterval: 'hour', interval: EVENTS_INTERVAL, destination: spec(tag.replace(/-/g, '_')),
              cpuProfileDir: o.profile ? profileDir : undefined, workerNodeOptions: o.workerNodeOptions,
              workerEnv: forced ? { OUTPORT_DATA_PATH: 'rows' } : undefined,
            });
            if (!forced) defaultPath = r.dataPath;
            const what = `${label} (${r.dataPath} path${forced ? ', forced' : ''})`;
            const limitKey = limitRate[key] !== undefined ? key : key === 'local-files' ? 'source' : key;
            const line = outportLine(key, what, r, sourceBytes.events, o.events, limitRate[limitKey], limitKey === 'source' ? 'source read' : key);
            lines.push({ ...line, dataPath: r.dataPath, defaultPath: !forced });
            log(`  ${Math.round(line.rowsPerSecond).toLocaleString('en-US')} rows/s, worker peak RSS ${r.workerPeakRssMiB.toFixed(0)} MiB${line.ratioToLimit !== null ? `, ${line.ratioToLimit.toFixed(2)} of the limit` : ''}`);
            if (o.profile) profiles[name] = summarizeProfile(path.join(profileDir, `${name}.cpuprofile`));
          });
          // The worker's OUTPORT_DATA_DIR/exports is its local files root (one team-<id> folder per team).
          if (key === 'local-files') fs.rmSync(path.join(root, 'outport-data', 'exports'), { recursive: true, force: true });
        }
      }
      if (personsData) {
        await attempt('persons', 'Outport persons → Postgres (merge)', async () => {
          log('Outport persons → Postgres (merge)...');
          const r = await runThroughOutport(s, m!, {
            name: 'persons-postgres', model: 'persons', exportInterval: 'week', interval: personsData!.interval, destination: pgDest(),
            cpuProfileDir: o.profile ? profileDir : undefined, workerNodeOptions: o.workerNodeOptions,
          });
          lines.push({ ...outportLine('persons', `Outport persons → Postgres (merge, ${r.dataPath} path)`, r, sourceBytes.persons, personsSrc?.rows ?? r.rows, limitRate.personsPostgres, 'persons COPY'), dataPath: r.dataPath, defaultPath: true });
          if (o.profile) profiles['persons-postgres'] = summarizeProfile(path.join(profileDir, 'persons-postgres.cpuprofile'));
        });
      }
    }

    if (!o.skipBackfill) {
      const b = o.backfill;
      log(`Backfills: max_concurrent_runs 1 vs ${b.concurrency} (${b.destinations.join(', ')})...`);
      m ??= await openMetadata(s);
      backfill = await runBackfills(s, m, b, log);
    }

    if (!o.skipScale) {
      log(`Scale: ${o.exports.toLocaleString('en-US')} hourly exports...`);
      m ??= await openMetadata(s);
      scale = await runScale(s, m, { exports: o.exports, requests: o.requests, log });
    }
  } finally {
    machine.loadAverageAtEnd = loadAverage();
    await m?.db.end().catch(() => undefined);
    await w?.stop();
    await s.stop();
    if (!o.keep) fs.rmSync(root, { recursive: true, force: true });
    else log(`Kept ${root}`);
  }

  const result = buildResult({ o, machine, generated, personsData, lines, backfill, limitRate, scale, profiles });
  printTable(lines);
  if (backfill) printBackfill(backfill);
  if (scale) printScale(scale);
  printTargets(result.targets);
  for (const [name, p] of Object.entries(profiles)) printProfile(name, p);
  log(`\nLoad average at start ${machine.loadAverageAtStart.join(', ')}, at end ${machine.loadAverageAtEnd.join(', ')} (${machine.cores} cores)`);
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify(result, null, 2) + '\n');
  log(`\nWrote ${path.relative(process.cwd(), o.out)}`);
}

function loadAverage(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

/** What bench/results/latest.json holds. */
export function buildResult(r: {
  o: Options;
  machine: Record<string, unknown>;
  generated?: Generated;
  personsData?: PersonsData;
  lines: Line[];
  backfill?: BackfillReport;
  limitRate: Record<string, number>;
  scale?: ScaleResult;
  profiles: Record<string, ProfileSummary>;
}) {
  // Per destination, Outport's default path over its limit (the first Outport line of each group).
  const ratioToLimit: Record<string, number> = {};
  for (const l of r.lines) if (l.ratioToLimit !== null && ratioToLimit[l.group] === undefined) ratioToLimit[l.group] = Math.round(l.ratioToLimit * 1000) / 1000;
  const peakRssMiB: Record<string, number> = {};
  for (const l of r.lines) if (l.workerPeakRssMiB !== null) peakRssMiB[l.what] = Math.round(l.workerPeakRssMiB);
  if (r.backfill) peakRssMiB['backfill worker (all backfills)'] = r.backfill.workerPeakRssMiB;
  return {
    when: new Date().toISOString(),
    machine: r.machine,
    ratioToLimit,
    peakRssMiB,
    targets: evaluateTargets(r.lines, r.backfill, r.limitRate, r.scale),
    options: { ...r.o, out: undefined },
    data: { events: r.generated, persons: r.personsData },
    lines: r.lines,
    backfill: r.backfill,
    scale: r.scale,
    profiles: r.profiles,
  };
}

function expectRows(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: ${got} rows, expected ${want}`);
}

function limitLine(group: string, what: string, r: Measurement, srcBytes: number | undefined): Line {
  return {
    group, what, rows: r.rows, seconds: r.seconds, rowsPerSecond: r.rows / r.seconds,
    mbPerSecond: srcBytes ? srcBytes / MB / r.seconds : null, outputMB: r.outputBytes !== undefined ? r.outputBytes / MB : null,
    workerPeakRssMiB: null, ratioToLimit: null, note: r.note,
  };
}

function outportLine(group: string, what: string, r: OutportRun, srcBytes: number | undefined, expected: number, limitRowsPerSecond: number | undefined, limitOf: string): Line {
  const ok = r.status === 'Completed' && r.rows === expected;
  const rowsPerSecond = r.rows / r.seconds;
  return {
    group, what, rows: r.rows, seconds: r.seconds, rowsPerSecond,
    mbPerSecond: srcBytes ? srcBytes / MB / r.seconds : null, outputMB: r.bytesExported / MB,
    workerPeakRssMiB: r.workerPeakRssMiB,
    workerPeakMemory: r.workerPeakMemory,
    phases: r.phases,
    ratioToLimit: limitRowsPerSecond ? rowsPerSecond / limitRowsPerSecond : null,
    limitOf,
    status: r.status,
    note: ok
      ? `run ${r.runSeconds.toFixed(1)} s inside the worker` + (r.phases ? ` (queue ${r.phases.queueSeconds} s, count ${r.phases.countSeconds} s, stream+write ${r.phases.writeSeconds} s)` : '')
      : `NOT OK: ${r.status}, ${r.rows}/${expected} rows${r.error ? `: ${r.error}` : ''}`,
  };
}

export interface Target {
  what: string;
  target: string;
  actual: string;
  met: boolean;
}

export function evaluateTargets(lines: Line[], backfill: BackfillReport | undefined, limitRate: Record<string, number>, scale?: ScaleResult): Target[] {
  const t: Target[] = [];
  for (const key of DESTINATIONS) {
    const l = lines.find((x) => x.group === key && x.ratioToLimit !== null);
    const min = RATIO_TARGETS[key];
    if (l) t.push({ what: `${key} Outport/limit (${l.dataPath} path)`, target: `>= ${min}`, actual: l.ratioToLimit!.toFixed(2), met: l.ratioToLimit! >= min });
  }
  // Outport's default path per destination (a forced row path is measured for comparison only).
  for (const l of lines.filter((x) => x.defaultPath && x.workerPeakRssMiB !== null)) {
    t.push({ what: `Worker peak RSS, ${l.what}, ${l.rows.toLocaleString('en-US')} rows`, target: `< ${RSS_TARGET_MIB} MiB`, actual: `${l.workerPeakRssMiB!.toFixed(0)} MiB`, met: l.workerPeakRssMiB! < RSS_TARGET_MIB });
  }
  for (const l of lines.filter((x) => x.status !== undefined)) {
    const ok = l.status === 'Completed' && !l.note?.startsWith('NOT OK');
    t.push({ what: `${l.what}: completed, all rows landed`, target: 'Completed', actual: ok ? 'Completed' : l.note ?? '', met: ok });
  }
  if (backfill) {
    const n = backfill.settings.concurrency;
    for (const sp of backfill.speedups.filter((x) => x.scenario === 'small')) {
      const r = backfill.results.find((x) => x.destination === sp.destination && x.scenario === 'small' && x.maxConcurrentRuns === n)!;
      t.push({ what: `Backfill ${r.runs} x ${backfill.settings.smallRows.toLocaleString('en-US')} events → ${sp.destination}, concurrency ${n} vs 1`, target: `>= ${BACKFILL_SPEEDUP_TARGET}x`, actual: `${sp.speedup}x`, met: sp.speedup >= BACKFILL_SPEEDUP_TARGET });
    }
    for (const r of backfill.results.filter((x) => x.scenario === 'large' && x.maxConcurrentRuns === n)) {
      const limit = limitRate[r.destination];
      const ratio = limit ? r.rowsPerSecond / limit : undefined;
      t.push({
        what: `Backfill ${r.runs} x ${backfill.settings.largeRows.toLocaleString('en-US')} events → ${r.destination}, concurrency ${n}: aggregate / single-run limit`,
        target: `>= ${BACKFILL_LARGE_RATIO_TARGET}`,
        actual: ratio === undefined ? 'no limit measured' : `${ratio.toFixed(2)} (${r.rowsPerSecond.toLocaleString('en-US')} rows/s)`,
        met: ratio !== undefined && ratio >= BACKFILL_LARGE_RATIO_TARGET,
      });
    }
    for (const r of backfill.results.filter((x) => x.failed > 0 || x.rows !== x.runs * (x.scenario === 'small' ? backfill.settings.smallRows : backfill.settings.largeRows))) {
      t.push({ what: `Backfill ${r.destination} ${r.scenario} concurrency ${r.maxConcurrentRuns}: every run completed, all rows landed`, target: 'Completed', actual: `${r.failed} runs not completed, ${r.rows} rows`, met: false });
    }
  }
  if (scale) {
    t.push({ what: `Scheduler tick, ${scale.exports} exports`, target: '< 5 s', actual: `${scale.tick.seconds.toFixed(2)} s (${scale.tick.runsCreated} runs)`, met: scale.tick.seconds < 5 && scale.tick.runsCreated === scale.exports });
    t.push({ what: 'List exports p99', target: '< 100 ms', actual: `${scale.listExports.p99Ms} ms`, met: scale.listExports.p99Ms < 100 });
    t.push({ what: 'List runs p99', target: '< 100 ms', actual: `${scale.listRuns.p99Ms} ms`, met: scale.listRuns.p99Ms < 100 });
  }
  return t;
}

function printBackfill(b: BackfillReport): void {
  log(`\nBackfills (one worker, ${b.settings.workerSlots} job slots; CPU µs per row: the worker's / the whole machine's)`);
  printGrid(['', 'runs', 'rows', 'wall s', 'rows/s', 'runs/s', 'mean run s', 'most at once', 'CPU µs/row'], b.results.map((r) => [
    `${r.destination}, ${r.scenario}, max_concurrent_runs ${r.maxConcurrentRuns}`,
    String(r.runs), r.rows.toLocaleString('en-US'), r.seconds.toFixed(1), r.rowsPerSecond.toLocaleString('en-US'), String(r.runsPerSecond),
    r.meanRunSeconds.toFixed(2), String(r.maxOverlap), `${r.workerCpuMicrosPerRow} / ${r.machineCpuMicrosPerRow}`,
  ]));
  log('  speed-up: ' + b.speedups.map((x) => `${x.destination} ${x.scenario} ${x.speedup}x`).join(', ') + `; worker peak RSS ${b.workerPeakRssMiB} MiB`);
}

function printTable(lines: Line[]): void {
  const head = ['', 'rows', 'wall s', 'rows/s', 'MB/s', 'out MB', 'worker RSS', 'Outport/limit'];
  const body = lines.map((l) => [
    l.what,
    l.rows.toLocaleString('en-US'),
    l.seconds.toFixed(1),
    Math.round(l.rowsPerSecond).toLocaleString('en-US'),
    l.mbPerSecond === null ? '—' : l.mbPerSecond.toFixed(1),
    l.outputMB === null ? '—' : l.outputMB.toFixed(0),
    l.workerPeakRssMiB === null ? '—' : `${l.workerPeakRssMiB.toFixed(0)} MiB`,
    l.ratioToLimit === null ? '' : `${l.ratioToLimit.toFixed(2)} (vs ${l.limitOf})`,
  ]);
  log('\nMB/s = source volume (rows as JSON text from ClickHouse) per wall second; out MB = bytes landed.');
  printGrid(head, body);
  for (const l of lines) if (l.note) log(`  ${l.what}: ${l.note}`);
  const mem = lines.filter((l) => l.workerPeakMemory);
  if (mem.length) {
    log('\nWorker memory at its peak (process.memoryUsage(), MiB)');
    printGrid(['', 'rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'], mem.map((l) => [
      l.what, ...['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'].map((k) => String(l.workerPeakMemory![k] ?? '—')),
    ]));
  }
}

function printScale(s: ScaleResult): void {
  log(`\nScale: ${s.exports.toLocaleString('en-US')} hourly exports`);
  printGrid(['', 'value'], [
    ['scheduler tick (runs created)', `${s.tick.seconds.toFixed(2)} s (${s.tick.runsCreated})`],
    [`list exports (first 100), ${s.listExports.requests} requests`, `p50 ${s.listExports.p50Ms} ms, p99 ${s.listExports.p99Ms} ms, max ${s.listExports.maxMs} ms`],
    [`list runs (first 50), ${s.listRuns.requests} requests`, `p50 ${s.listRuns.p50Ms} ms, p99 ${s.listRuns.p99Ms} ms, max ${s.listRuns.maxMs} ms`],
    ['runs completed meanwhile', String(s.runsCompletedDuringMeasurement)],
  ]);
}

function printTargets(t: Target[]): void {
  log('\nTargets');
  printGrid(['', 'target', 'actual', ''], t.map((x) => [x.what, x.target, x.actual, x.met ? 'met' : 'MISSED']));
}

function printProfile(name: string, p: ProfileSummary): void {
  log(`\nWorker CPU profile, ${name} (${p.totalSeconds} s; ${path.relative(process.cwd(), p.file)}): self time by package`);
  log('  ' + p.byPackage.map((x) => `${x.name} ${x.percent}%`).join(', '));
  log('  top functions: ' + p.topFunctions.slice(0, 8).map((f) => `${f.name} (${f.where}) ${f.percent}%`).join('; '));
}

function printGrid(head: string[], body: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const row = (r: string[]) => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  log(row(head));
  log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of body) log(row(r));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
