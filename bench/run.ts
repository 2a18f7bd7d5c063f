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
import { openMetadata, runThroughOutport, type DestinationSpec, type Metadata, type OutportRun } from './outport';
import { summarizeProfile, type ProfileSummary } from './profile';
import { runScale, type ScaleResult } from './scale';
import { S3_BUCKET, startServices, type Services } from './services';

const DESTINATIONS = ['postgres', 's3-parquet', 's3-jsonl', 'local-files'] as const;
type DestinationKey = (typeof DESTINATIONS)[number];

const HELP = `npm run bench -- [flags]

  --events N          events generated and exported (default 1000000)
  --persons N         persons for the persons-merge run (default 200000; 0 skips it)
  --exports N         hourly exports for the scale section (default 10000)
  --requests N        API requests per list query in the scale section (default 200)
  --paths L           data paths of the file destinations: bytes,rows (default both; bytes is Outport's default)
  --destinations L    comma list of ${DESTINATIONS.join(',')} (default all)
  --skip-limits       do not measure the limits (source read, COPY, ClickHouse s3())
  --skip-outport      do not run Outport end to end
  --skip-scale        skip the scheduler/API scale section
  --profile           write a CPU profile of each Outport worker run (node --cpu-prof) to bench/results/profiles/
                      and print where its time went
  --worker-node-options S  NODE_OPTIONS for the Outport worker processes (e.g. "--max-old-space-size=160")
  --out FILE          results file (default bench/results/latest.json)
  --keep              keep the temporary data directory
  --help              this text

Peak-RSS check at 5M events, without the rest:
  npm run bench -- --events 5000000 --persons 0 --skip-limits --skip-scale --destinations postgres,s3-parquet
`;

interface Options {
  events: number;
  persons: number;
  exports: number;
  requests: number;
  destinations: DestinationKey[];
  skipLimits: boolean;
  /** Data paths measured for the file destinations: bytes (ClickHouse encodes; the default) and rows. */
  paths: ('bytes' | 'rows')[];
  skipOutport: boolean;
  skipScale: boolean;
  profile: boolean;
  workerNodeOptions?: string;
  out: string;
  keep: boolean;
}

const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'bench', 'results');

function parseArgs(argv: string[]): Options {
  const o: Options = {
    events: 1_000_000, persons: 200_000, exports: 10_000, requests: 200, destinations: [...DESTINATIONS],
    skipLimits: false, paths: ['bytes', 'rows'], skipOutport: false, skipScale: false, profile: false, out: path.join(RESULTS_DIR, 'latest.json'), keep: false,
  };
  const int = (flag: string, v: string | undefined, min: number) => {
    const n = Number(v?.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min} (got ${JSON.stringify(v)})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0);
      case '--events': o.events = int(a, argv[++i], 1); break;
      case '--persons': o.persons = int(a, argv[++i], 0); break;
      case '--exports': o.exports = int(a, argv[++i], 1); break;
      case '--requests': o.requests = int(a, argv[++i], 1); break;
      case '--destinations': {
        const list = (argv[++i] ?? '').split(',').filter(Boolean);
        const bad = list.filter((d) => !(DESTINATIONS as readonly string[]).includes(d));
        if (bad.length || !list.length) throw new Error(`--destinations takes a comma list of ${DESTINATIONS.join(', ')} (got ${JSON.stringify(argv[i])})`);
        o.destinations = list as DestinationKey[];
        break;
      }
      case '--skip-limits': o.skipLimits = true; break;
      case '--paths': {
        const list = String(argv[++i] ?? '').split(',').filter(Boolean);
        if (!list.length || list.some((p) => p !== 'bytes' && p !== 'rows')) throw new Error(`--paths takes bytes, rows or bytes,rows (got ${JSON.stringify(argv[i])})`);
        o.paths = list as Options['paths'];
        break;
      }
      case '--skip-outport': o.skipOutport = true; break;
      case '--skip-scale': o.skipScale = true; break;
      case '--profile': o.profile = true; break;
      case '--worker-node-options': o.workerNodeOptions = argv[++i]; break;
      case '--keep': o.keep = true; break;
      case '--out': o.out = path.resolve(argv[++i] ?? ''); break;
      default: throw new Error(`unknown flag ${a}; see npm run bench -- --help`);
    }
  }
  return o;
}

/** One line of the table: a limit or an Outport run. */
interface Line {
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
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
  log(`Outport benchmark: ${o.events.toLocaleString('en-US')} events on ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-bench-'));
  const profileDir = path.join(RESULTS_DIR, 'profiles');
  if (o.profile) fs.mkdirSync(profileDir, { recursive: true });
  const s = await startServices(root);
  const lines: Line[] = [];
  const profiles: Record<string, ProfileSummary> = {};
  let generated: Generated | undefined;
  let personsData: PersonsData | undefined;
  let scale: ScaleResult | undefined;
  const sourceBytes: Partial<Record<Model, number>> = {};
  const limitRate: Record<string, number> = {};
  let m: Metadata | undefined;
  try {
    log('Generating data in the embedded ClickHouse...');
    generated = await generateEventsData(s.ch, o.events, log);
    log(`  ${generated.rows.toLocaleString('en-US')} events in ${generated.seconds.toFixed(1)} s; properties JSON median ${generated.propertiesBytes.median} B, mean ${generated.propertiesBytes.mean} B`);
    if (o.persons > 0) {
      personsData = await generatePersonsData(s.ch, o.persons);
      log(`  ${o.persons.toLocaleString('en-US')} persons (${personsData.versionRows.toLocaleString('en-US')} version rows) in ${personsData.seconds.toFixed(1)} s`);
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
      if (o.destinations.includes('postgres')) {
        log('Postgres limit: COPY of the pre-rendered rows...');
        const file = path.join(root, 'events.copy');
        const rendered = await renderCopyFile(s, eventsQ, file);
        const pg = await postgresLimit(s, 'events', file, rendered);
        fs.rmSync(file, { force: true });
        lines.push(limitLine('postgres', 'COPY file → Postgres table (same DDL)', pg, sourceBytes.events));
        limitRate.postgres = pg.rows / pg.seconds;
      }
      if (personsQ && personsSrc) {
        const file = path.join(root, 'persons.copy');
        const rendered = await renderCopyFile(s, personsQ, file);
        const pg = await postgresLimit(s, 'persons', file, rendered);
        fs.rmSync(file, { force: true });
        lines.push(limitLine('persons', 'COPY file → Postgres persons table (same DDL)', pg, sourceBytes.persons));
        limitRate.personsPostgres = pg.rows / pg.seconds;
      }
      for (const [key, format, label] of [
        ['s3-parquet', 'parquet-zstd', 'ClickHouse INSERT INTO FUNCTION s3() Parquet zstd (Outport\'s columns)'],
        ['s3-jsonl', 'jsonl-gzip', 'ClickHouse INSERT INTO FUNCTION s3() JSON Lines gzip (Outport\'s shape)'],
      ] as [DestinationKey, S3Format, string][]) {
        if (!o.destinations.includes(key)) continue;
        log(`S3 limit: ${label}...`);
        const r = await s3Limit(s, eventsQ, format);
        expectRows(label, r.rows, o.events);
        lines.push(limitLine(key, label, r, sourceBytes.events));
        limitRate[key] = r.rows / r.seconds;
      }
      if (o.destinations.includes('local-files')) {
        const label = 'ClickHouse INSERT INTO FUNCTION file() JSON Lines gzip (Outport\'s shape)';
        log(`Local files limit: ${label}...`);
        const r = await fileLimit(s, eventsQ, 'jsonl-gzip', path.join(root, 'limit-files'));
        expectRows(label, r.rows, o.events);
        lines.push(limitLine('local-files', label, r, sourceBytes.events));
        limitRate['local-files'] = r.rows / r.seconds;
      }
    }

    if (!o.skipOutport) {
      m = await openMetadata(s);
      if (m.teamId !== TEAM_ID) throw new Error(`the benchmark team got id ${m.teamId}, the data was generated for team ${TEAM_ID}`);
      const pgDest: DestinationSpec = {
        type: 'postgres',
        config: { host: s.destination.host, port: s.destination.port, database: s.destination.database, user: s.destination.user, schema: 'public', ssl_mode: 'disable' },
        secrets: { password: s.destination.password },
      };
      const s3Dest = (file_format: string, compression: string, prefix: string): DestinationSpec => ({
        type: 's3',
        config: { bucket_name: S3_BUCKET, endpoint_url: s.s3.endpoint, force_path_style: true, region: 'us-east-1', aws_access_key_id: s.s3.accessKeyId, file_format, compression, prefix },
        secrets: { aws_secret_access_key: s.s3.secretAccessKey },
      });
      const runs: [DestinationKey | 'persons', string, DestinationSpec][] = [
        ['postgres', 'Outport events → Postgres', pgDest],
        ['s3-parquet', 'Outport events → S3 Parquet zstd', s3Dest('Parquet', 'zstd', 'outport-parquet/{table}')],
        ['s3-jsonl', 'Outport events → S3 JSONL gzip', s3Dest('JSONLines', 'gzip', 'outport-jsonl/{table}')],
        ['local-files', 'Outport events → local files JSONL gzip', { type: 'local-files', config: { path: 'local-exports', file_format: 'JSONLines', compression: 'gzip' } }],
      ];
      for (const [key, label, dest] of runs) {
        if (!o.destinations.includes(key as DestinationKey)) continue;
        // File destinations run on both data paths, bytes first (its line carries the destination's ratioToLimit).
        const paths = dest.type === 'postgres' ? [undefined] : o.paths;
        for (const dataPath of paths) {
          const what = dataPath ? `${label} (${dataPath} path)` : label;
          log(`${what}...`);
          const name = `events-${key}${dataPath ? `-${dataPath}` : ''}`;
          const r = await runThroughOutport(s, m, {
            name, model: 'events', exportInterval: 'hour', interval: EVENTS_INTERVAL, destination: dest,
            cpuProfileDir: o.profile ? profileDir : undefined, workerNodeOptions: o.workerNodeOptions,
            workerEnv: dataPath === 'rows' ? { OUTPORT_DATA_PATH: 'rows' } : undefined,
          });
          lines.push(outportLine(key, what, r, sourceBytes.events, o.events, limitRate[key] ?? (key === 'local-files' ? limitRate.source : undefined), key === 'local-files' && limitRate[key] === undefined ? 'source read' : key));
          if (o.profile) profiles[name] = summarizeProfile(path.join(profileDir, `${name}.cpuprofile`));
          // The worker's OUTPORT_DATA_DIR/exports is its local files root (one team-<id> folder per team).
          if (key === 'local-files') fs.rmSync(path.join(root, 'outport-data', 'exports'), { recursive: true, force: true });
        }
      }
      if (personsData) {
        log('Outport persons → Postgres (merge)...');
        const r = await runThroughOutport(s, m, {
          name: 'persons-postgres', model: 'persons', exportInterval: 'week', interval: personsData.interval, destination: pgDest,
          cpuProfileDir: o.profile ? profileDir : undefined, workerNodeOptions: o.workerNodeOptions,
        });
        lines.push(outportLine('persons', 'Outport persons → Postgres (merge)', r, sourceBytes.persons, personsSrc?.rows ?? r.rows, limitRate.personsPostgres, 'persons COPY'));
        if (o.profile) profiles['persons-postgres'] = summarizeProfile(path.join(profileDir, 'persons-postgres.cpuprofile'));
      }
    }

    if (!o.skipScale) {
      log(`Scale: ${o.exports.toLocaleString('en-US')} hourly exports...`);
      m ??= await openMetadata(s);
      scale = await runScale(s, m, { exports: o.exports, requests: o.requests, log });
    }
  } finally {
    await m?.db.end().catch(() => undefined);
    await s.stop();
    if (!o.keep) fs.rmSync(root, { recursive: true, force: true });
    else log(`Kept ${root}`);
  }

  const targets = evaluateTargets(lines, scale);
  // Per destination, Outport's default path over its limit (the first Outport line of each group).
  const ratioToLimit: Record<string, number> = {};
  for (const l of lines) if (l.ratioToLimit !== null && ratioToLimit[l.group] === undefined) ratioToLimit[l.group] = Math.round(l.ratioToLimit * 1000) / 1000;
  const result = { when: new Date().toISOString(), machine, ratioToLimit, options: { ...o, out: undefined }, data: { events: generated, persons: personsData }, lines, scale, targets, profiles };
  printTable(lines);
  if (scale) printScale(scale);
  printTargets(targets);
  for (const [name, p] of Object.entries(profiles)) printProfile(name, p);
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify(result, null, 2) + '\n');
  log(`\nWrote ${path.relative(process.cwd(), o.out)}`);
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

interface Target {
  what: string;
  target: string;
  actual: string;
  met: boolean;
}

function evaluateTargets(lines: Line[], scale?: ScaleResult): Target[] {
  const t: Target[] = [];
  const ratio = (group: string, min: number, label: string) => {
    const l = lines.find((x) => x.group === group && x.ratioToLimit !== null);
    if (l) t.push({ what: `${label} Outport/limit`, target: `>= ${min}`, actual: l.ratioToLimit!.toFixed(2), met: l.ratioToLimit! >= min });
  };
  ratio('postgres', 0.8, 'Postgres');
  ratio('s3-parquet', 0.8, 'S3 Parquet zstd');
  ratio('s3-jsonl', 0.8, 'S3 JSONL gzip');
  ratio('local-files', 0.8, 'Local files JSONL gzip');
  // Outport's default path per destination (the row path of file destinations is measured for comparison only).
  const rss = lines.filter((l) => l.workerPeakRssMiB !== null && !l.what.endsWith('(rows path)')).map((l) => l.workerPeakRssMiB!);
  if (rss.length) {
    const peak = Math.max(...rss);
    t.push({ what: 'Worker peak RSS (max over default-path runs)', target: '< 200 MiB', actual: `${peak.toFixed(0)} MiB`, met: peak < 200 });
  }
  for (const l of lines.filter((x) => x.status !== undefined)) {
    t.push({ what: `${l.what}: completed, all rows landed`, target: 'Completed', actual: l.status === 'Completed' && !l.note?.startsWith('NOT OK') ? 'Completed' : l.note ?? '', met: l.status === 'Completed' && !l.note?.startsWith('NOT OK') });
  }
  if (scale) {
    t.push({ what: `Scheduler tick, ${scale.exports} exports`, target: '< 5 s', actual: `${scale.tick.seconds.toFixed(2)} s (${scale.tick.runsCreated} runs)`, met: scale.tick.seconds < 5 && scale.tick.runsCreated === scale.exports });
    t.push({ what: 'List exports p99', target: '< 100 ms', actual: `${scale.listExports.p99Ms} ms`, met: scale.listExports.p99Ms < 100 });
    t.push({ what: 'List runs p99', target: '< 100 ms', actual: `${scale.listRuns.p99Ms} ms`, met: scale.listRuns.p99Ms < 100 });
  }
  return t;
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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
