/**
 * `npm run build && node dist/bench/pg-load.js [--rows N] [--existing N] [--only a,b] [--states empty,existing,rerun]`:
 * the cost of making a Postgres events load idempotent, on this machine's embedded Postgres.
 *
 * The rows are PostHog-shaped events (~1 KB of properties JSON) generated here and pre-rendered (untimed) into a
 * COPY text file with the Postgres plugin's own encoder; every strategy then loads that same file. Timed: from the
 * first statement of the load to its COMMIT, phases reported separately.
 *
 * `keys first` is the load the byte path could use (README "Choosing the events load"): the run's keys, which a
 * keys-only ClickHouse query gives before any row, are deleted from the table under the lock and the rows COPYed
 * straight into it, all in one transaction: the run is written once instead of twice (stage, then table).
 *
 * States of the destination table before the load:
 * - empty:    the table exists (primary key on (team_id, uuid)) and holds nothing;
 * - existing: it holds `--existing` other events of the same team (a table that has been exported into before);
 * - rerun:    it already holds this run's rows (a retry after a committed attempt, a replayed interval).
 *
 * Results: printed, and written to bench/results/pg-load.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { MODEL_SCHEMAS, type Row } from '../src/sdk';
import { quoteIdent } from '../src/sdk/pgwire';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres';
import { encodeRow } from '../plugins/postgres/copy';
import { createTableSql } from '../plugins/postgres/ddl';
import { Sanitizer } from '../plugins/postgres/sanitize';
import { loadRun, type CopyInput } from '../plugins/postgres/load';

const EVENTS = MODEL_SCHEMAS.events;
const COLUMNS = EVENTS.columns.map((c) => quoteIdent(c.name)).join(', ');
const RUN_HOUR = Date.parse('2026-09-01T10:00:00Z');
const EXISTING_HOUR = Date.parse('2026-09-01T09:00:00Z');

type State = 'empty' | 'existing' | 'rerun';

interface Strategy {
  name: string;
  idempotent: string;
  /** Table shape the strategy needs. */
  table: 'pk' | 'none' | 'unindexed' | 'nonunique' | 'partitioned';
  states: State[];
  load(c: Ctx): Promise<Record<string, number>>;
}

interface Ctx {
  url: string;
  clients: Client[];
  files: string[];
  /** The run's keys (team_id, uuid) as COPY text: what a keys-only query of the run would give. */
  keysFile: string;
  rows: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Data

/** A small deterministic PRNG (mulberry32), so every run of the bench loads the same bytes. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EVENT_NAMES = ['$pageview', '$autocapture', '$pageleave', 'signed_up', 'purchase', '$identify', 'feature_flag_called'];
const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge'];

function hex(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ((r() * 16) | 0).toString(16);
  return s;
}

function uuidOf(r: () => number): string {
  return `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;
}

function eventRow(r: () => number, i: number, hourStart: number, rows: number): Row {
  const ts = new Date(hourStart + Math.floor((i * 3_600_000) / rows)).toISOString().replace('Z', '000Z');
  const props: Record<string, unknown> = {
    $browser: BROWSERS[(r() * 4) | 0],
    $browser_version: 100 + ((r() * 30) | 0),
    $os: 'Mac OS X',
    $current_url: `https://example.com/products/${hex(r, 10)}?utm_source=newsletter&ref=${hex(r, 6)}`,
    $host: 'example.com',
    $pathname: `/products/${hex(r, 10)}`,
    $screen_height: 1080,
    $screen_width: 1920,
    $lib: 'web',
    $lib_version: '1.130.0',
    $insert_id: hex(r, 16),
    $time: (hourStart + i) / 1000,
    $device_id: uuidOf(r),
    $session_id: uuidOf(r),
    $window_id: uuidOf(r),
    $referrer: 'https://www.google.com/',
    $referring_domain: 'www.google.com',
    $active_feature_flags: ['new-checkout', 'beta-dashboard', `exp-${hex(r, 4)}`],
    plan: r() < 0.5 ? 'free' : 'scale',
    cart: { items: Array.from({ length: 1 + ((r() * 3) | 0) }, () => ({ sku: hex(r, 8), qty: 1 + ((r() * 4) | 0), price: Math.round(r() * 10000) / 100 })) },
    note: `Bought ${hex(r, 20)} — ünïcödé and emoji 🎉`,
  };
  return {
    team_id: 1,
    uuid: uuidOf(r),
    event: EVENT_NAMES[(r() * EVENT_NAMES.length) | 0],
    distinct_id: `user-${(r() * 200_000) | 0}`,
    person_id: uuidOf(r),
    timestamp: ts,
    created_at: ts,
    _inserted_at: ts,
    properties: JSON.stringify(props),
    person_properties: JSON.stringify({ email: `u${(r() * 1e6) | 0}@example.com`, name: 'Ada', plan: 'scale' }),
    set: r() < 0.1 ? JSON.stringify({ plan: 'scale' }) : null,
    set_once: null,
    elements_chain: r() < 0.3 ? `a.btn:text="Buy"nth-child="1";div.cart:nth-child="2"` : '',
  };
}

/**
 * Renders `rows` events into `files.length` COPY files, row i into file (hash of its uuid) % n, and, when
 * `keysFile` is given, the run's keys (team_id, uuid) as COPY text into it. Returns bytes.
 */
async function render(files: string[], rows: number, seed: number, hourStart: number, keysFile?: string): Promise<number> {
  const r = prng(seed);
  const sanitizer = new Sanitizer();
  const outs = files.map((f) => fs.createWriteStream(f));
  const keys = keysFile ? fs.createWriteStream(keysFile) : undefined;
  let pendingKeys = '';
  const pending = files.map(() => '');
  let bytes = 0;
  const flush = async (k: number) => {
    const buf = Buffer.from(pending[k], 'utf8');
    pending[k] = '';
    bytes += buf.length;
    if (!outs[k].write(buf)) await new Promise<void>((res) => outs[k].once('drain', () => res()));
  };
  for (let i = 0; i < rows; i++) {
    const row = eventRow(r, i, hourStart, rows);
    const k = parseInt((row.uuid as string).slice(0, 2), 16) % files.length;
    pending[k] += encodeRow(row, EVENTS.columns, sanitizer);
    if (pending[k].length > 1 << 20) await flush(k);
    if (keys) {
      pendingKeys += `${row.team_id}\t${row.uuid}\n`;
      if (pendingKeys.length > 1 << 20) {
        const full = !keys.write(pendingKeys);
        pendingKeys = '';
        if (full) await new Promise<void>((res) => keys.once('drain', () => res()));
      }
    }
  }
  for (let k = 0; k < files.length; k++) await flush(k);
  if (keys) keys.write(pendingKeys);
  await Promise.all([...outs, ...(keys ? [keys] : [])].map((o) => new Promise<void>((res) => o.end(() => res()))));
  return bytes;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function timed<T>(phases: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  try {
    return await fn();
  } finally {
    phases[name] = (phases[name] ?? 0) + seconds(t0);
  }
}

async function copyFile(client: Client, table: string, file: string): Promise<number> {
  const copy = client.query(copyFrom(`COPY ${table} (${COLUMNS}) FROM STDIN`));
  await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), copy);
  return copy.rowCount;
}

/** COPY of every file, one stream (and connection) per file, all at once. */
async function copyAll(c: Ctx, table: string): Promise<number> {
  const counts = await Promise.all(c.files.map((f, k) => copyFile(c.clients[k], table, f)));
  return counts.reduce((a, b) => a + b, 0);
}

function fileInputs(c: Ctx): CopyInput[] {
  return c.files.map((f) => async (copy) => {
    await pipeline(fs.createReadStream(f, { highWaterMark: 1 << 20 }), copy);
  });
}

const STAGE = 'public.bench_stage';

async function createStage(client: Client): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${STAGE}`);
  const columns = EVENTS.columns.map((c) => `${quoteIdent(c.name)} ${c.type === 'json' ? 'JSONB' : c.type === 'int' ? 'BIGINT' : c.type === 'timestamp' ? 'TIMESTAMPTZ' : 'TEXT'}`);
  await client.query(`CREATE UNLOGGED TABLE ${STAGE} (${columns.join(', ')})`);
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies

const TARGET = 'public.bench_events';

const strategies: Strategy[] = [
  {
    name: 'limit: COPY into an empty table, no index',
    idempotent: 'no',
    table: 'unindexed',
    states: ['empty'],
    async load(c) {
      const p: Record<string, number> = {};
      await timed(p, 'copy', () => copyAll(c, TARGET));
      return p;
    },
  },
  {
    name: 'COPY straight into the table (primary key)',
    idempotent: 'no (a retry fails on the key)',
    table: 'pk',
    states: ['empty', 'existing'],
    async load(c) {
      const p: Record<string, number> = {};
      await timed(p, 'copy', () => copyAll(c, TARGET));
      return p;
    },
  },
  {
    name: 'stage + INSERT ON CONFLICT DO NOTHING (before)',
    idempotent: 'yes, needs a unique key',
    table: 'pk',
    states: ['empty', 'existing', 'rerun'],
    async load(c) {
      const p: Record<string, number> = {};
      const db = c.clients[0];
      await timed(p, 'stage', () => createStage(db));
      await timed(p, 'copy', () => copyAll(c, STAGE));
      await timed(p, 'analyze', () => db.query(`ANALYZE ${STAGE}`));
      await db.query('BEGIN');
      await timed(p, 'merge', () => db.query(`INSERT INTO ${TARGET} (${COLUMNS}) SELECT ${COLUMNS} FROM ${STAGE} ON CONFLICT (team_id, uuid) DO NOTHING`));
      await timed(p, 'count', () =>
        db.query(`SELECT count(*) FROM (SELECT DISTINCT team_id, uuid FROM ${STAGE}) s WHERE EXISTS (SELECT 1 FROM ${TARGET} f WHERE f.team_id = s.team_id AND f.uuid = s.uuid)`),
      );
      await db.query(`DROP TABLE ${STAGE}`);
      await timed(p, 'commit', () => db.query('COMMIT'));
      return p;
    },
  },
  {
    name: 'stage + lock + INSERT WHERE NOT EXISTS',
    idempotent: 'yes (keeps the stored copy)',
    table: 'pk',
    states: ['empty', 'existing', 'rerun'],
    async load(c) {
      const p: Record<string, number> = {};
      const db = c.clients[0];
      await timed(p, 'stage', () => createStage(db));
      await timed(p, 'copy', () => copyAll(c, STAGE));
      await timed(p, 'analyze', () => db.query(`ANALYZE ${STAGE}`));
      await db.query('BEGIN');
      await db.query(`SELECT pg_advisory_xact_lock(42)`);
      await timed(p, 'merge', () =>
        db.query(
          `INSERT INTO ${TARGET} (${COLUMNS}) SELECT ${COLUMNS} FROM ${STAGE} s WHERE NOT EXISTS (SELECT 1 FROM ${TARGET} f WHERE f.team_id = s.team_id AND f.uuid = s.uuid)`,
        ),
      );
      await db.query(`DROP TABLE ${STAGE}`);
      await timed(p, 'commit', () => db.query('COMMIT'));
      return p;
    },
  },
  ...(['pk', 'nonunique', 'none'] as const).map(
    (table): Strategy => ({
      name: `stage + lock + DELETE run's keys + INSERT${table === 'pk' ? '' : table === 'nonunique' ? ' (non-unique index)' : ' (no index)'}`,
      idempotent: 'yes, no unique key needed',
      table,
      states: table === 'pk' ? ['empty', 'existing', 'rerun'] : ['existing'],
      async load(c) {
        const p: Record<string, number> = {};
        const db = c.clients[0];
        await timed(p, 'stage', () => createStage(db));
        await timed(p, 'copy', () => copyAll(c, STAGE));
        await timed(p, 'analyze', () => db.query(`ANALYZE ${STAGE}`));
        await db.query('BEGIN');
        await db.query(`SELECT pg_advisory_xact_lock(42)`);
        await timed(p, 'delete', () => db.query(`DELETE FROM ${TARGET} t USING ${STAGE} s WHERE t.team_id = s.team_id AND t.uuid = s.uuid`));
        await timed(p, 'merge', () => db.query(`INSERT INTO ${TARGET} (${COLUMNS}) SELECT ${COLUMNS} FROM ${STAGE}`));
        await db.query(`DROP TABLE ${STAGE}`);
        await timed(p, 'commit', () => db.query('COMMIT'));
        return p;
      },
    }),
  ),
  {
    name: 'plugin loadRun (chosen)',
    idempotent: 'yes, no unique key needed',
    table: 'pk',
    states: ['empty', 'existing', 'rerun'],
    async load(c) {
      const p: Record<string, number> = {};
      const t0 = process.hrtime.bigint();
      const result = await loadRun(c.clients[0], {
        schema: 'public',
        table: 'bench_events',
        stage: 'bench_stage',
        model: EVENTS,
        inputs: fileInputs(c),
        openSession: async () => {
          const session = new Client(c.url);
          await session.connect();
          return session;
        },
        signal: new AbortController().signal,
      });
      p.total = seconds(t0);
      Object.assign(p, result.timings);
      return p;
    },
  },
  {
    name: 'keys first: lock + DELETE by the run\'s keys + COPY into the table, one transaction',
    idempotent: 'yes, no unique key needed; one COPY session, under the lock',
    table: 'pk',
    states: ['empty', 'existing', 'rerun'],
    async load(c) {
      const p: Record<string, number> = {};
      const db = c.clients[0];
      const keys = 'public.bench_keys';
      await timed(p, 'keys', async () => {
        await db.query(`DROP TABLE IF EXISTS ${keys}`);
        await db.query(`CREATE UNLOGGED TABLE ${keys} (team_id BIGINT, uuid TEXT)`);
        const copy = db.query(copyFrom(`COPY ${keys} FROM STDIN`));
        await pipeline(fs.createReadStream(c.keysFile, { highWaterMark: 1 << 20 }), copy);
        await db.query(`ANALYZE ${keys}`);
      });
      await db.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      await db.query(`SELECT pg_advisory_xact_lock(42)`);
      await timed(p, 'delete', () => db.query(`DELETE FROM ${TARGET} t USING ${keys} k WHERE t.team_id = k.team_id AND t.uuid = k.uuid`));
      // One session: the COPY must be part of the transaction that deleted the keys.
      await timed(p, 'copy', async () => {
        for (const f of c.files) await copyFile(db, TARGET, f);
      });
      await db.query(`DROP TABLE ${keys}`);
      await timed(p, 'commit', () => db.query('COMMIT'));
      return p;
    },
  },
  {
    name: 'fresh table swapped in as a partition',
    idempotent: 'only per partition (see README)',
    table: 'partitioned',
    states: ['empty', 'existing', 'rerun'],
    async load(c) {
      const p: Record<string, number> = {};
      const db = c.clients[0];
      const part = 'public.bench_part_run';
      const from = new Date(RUN_HOUR).toISOString();
      const to = new Date(RUN_HOUR + 3_600_000).toISOString();
      await timed(p, 'stage', async () => {
        await db.query(`DROP TABLE IF EXISTS ${part}`);
        await db.query(`CREATE TABLE ${part} (LIKE ${TARGET} INCLUDING DEFAULTS)`);
      });
      await timed(p, 'copy', () => copyAll(c, part));
      await timed(p, 'index', () => db.query(`ALTER TABLE ${part} ADD PRIMARY KEY (team_id, uuid, _inserted_at)`));
      await timed(p, 'check', () =>
        db.query(`ALTER TABLE ${part} ADD CONSTRAINT bench_part_run_range CHECK (_inserted_at IS NOT NULL AND _inserted_at >= '${from}' AND _inserted_at < '${to}')`),
      );
      await db.query('BEGIN');
      await timed(p, 'swap', async () => {
        const { rows } = await db.query(
          `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${TARGET}'::regclass AND c.relname = 'bench_part_10'`,
        );
        if (rows.length) await db.query(`DROP TABLE public.bench_part_10`);
        await db.query(`ALTER TABLE ${part} RENAME TO bench_part_10`);
        await db.query(`ALTER TABLE ${TARGET} ATTACH PARTITION public.bench_part_10 FOR VALUES FROM ('${from}') TO ('${to}')`);
      });
      await timed(p, 'commit', () => db.query('COMMIT'));
      return p;
    },
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Table states

async function createTarget(db: Client, shape: Strategy['table']): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${TARGET} CASCADE`);
  await db.query(`DROP TABLE IF EXISTS ${STAGE}`);
  if (shape === 'partitioned') {
    const columns = createTableSql('public', 'x', EVENTS).split('\n').slice(1, -2).join('\n');
    await db.query(`CREATE TABLE ${TARGET} (\n${columns}\n PRIMARY KEY (team_id, uuid, _inserted_at)) PARTITION BY RANGE (_inserted_at)`);
    return;
  }
  const sql = createTableSql('public', 'bench_events', EVENTS);
  await db.query(shape === 'pk' ? sql : sql.replace(/,\n\s*PRIMARY KEY \([^)]*\)/, ''));
  if (shape === 'nonunique') await db.query(`CREATE INDEX ON ${TARGET} (team_id, uuid)`);
}

async function fillExisting(db: Client, shape: Strategy['table'], existingFile: string): Promise<void> {
  if (shape === 'partitioned') {
    const from = new Date(EXISTING_HOUR).toISOString();
    const to = new Date(EXISTING_HOUR + 3_600_000).toISOString();
    await db.query(`CREATE TABLE public.bench_part_09 PARTITION OF ${TARGET} FOR VALUES FROM ('${from}') TO ('${to}')`);
  }
  await copyFile(db, TARGET, existingFile);
  await db.query(`VACUUM ANALYZE ${TARGET}`);
}

// ---------------------------------------------------------------------------------------------------------------

interface Result {
  strategy: string;
  idempotent: string;
  state: State;
  streams: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  ratioToLimit?: number;
  phases: Record<string, number>;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const rows = Number(arg('--rows') ?? 1_000_000);
  const existing = Number(arg('--existing') ?? rows);
  const only = arg('--only')?.split(',');
  const states = (arg('--states')?.split(',') ?? ['empty', 'existing', 'rerun']) as State[];
  const streamCounts = (arg('--streams') ?? '1,2').split(',').map(Number);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-pg-load-'));
  fs.chmodSync(root, 0o755);
  const log = (s: string) => process.stdout.write(s + '\n');
  const pg = await startEmbeddedPostgres({ dataDir: path.join(root, 'pg'), persistent: false });
  const results: Result[] = [];
  try {
    const admin = new Client(pg.url);
    await admin.connect();
    const settings = await admin.query(`SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers','work_mem','maintenance_work_mem','max_wal_size','fsync','synchronous_commit','wal_level')`);
    log(`Postgres settings: ${settings.rows.map((r) => `${r.name}=${r.setting}`).join(' ')}`);
    await admin.end();

    const files: Record<number, string[]> = {};
    const keysFile = path.join(root, 'run-keys.copy');
    for (const n of streamCounts) {
      files[n] = Array.from({ length: n }, (_, k) => path.join(root, `run-${n}-${k}.copy`));
      const bytes = await render(files[n], rows, 42, RUN_HOUR, n === streamCounts[0] ? keysFile : undefined);
      log(`rendered ${rows.toLocaleString('en-US')} events into ${n} file(s): ${(bytes / 1e6).toFixed(0)} MB`);
    }
    const existingFile = path.join(root, 'existing.copy');
    await render([existingFile], existing, 7, EXISTING_HOUR);

    let limit: number | undefined;
    for (const s of strategies) {
      if (only && !only.some((o) => s.name.toLowerCase().includes(o.toLowerCase()))) continue;
      const counts = s.name.startsWith('limit') || s.name.startsWith('plugin') ? streamCounts : [1];
      for (const streams of counts) {
        for (const state of s.states.filter((x) => states.includes(x))) {
          const clients = await Promise.all(
            Array.from({ length: s.name.startsWith('plugin') ? 1 : streams }, async () => {
              const c = new Client(pg.url);
              await c.connect();
              return c;
            }),
          );
          try {
            const ctx: Ctx = { url: pg.url, clients, files: files[streams], keysFile, rows };
            await createTarget(clients[0], s.table);
            if (state === 'existing') await fillExisting(clients[0], s.table, existingFile);
            if (state === 'rerun') await s.load(ctx);
            await clients[0].query('CHECKPOINT');
            const t0 = process.hrtime.bigint();
            const phases = await s.load(ctx);
            const secs = seconds(t0);
            const check = await clients[0].query(`SELECT count(*)::int AS n, count(DISTINCT uuid)::int AS d FROM ${TARGET} WHERE _inserted_at >= $1`, [new Date(RUN_HOUR)]);
            if (check.rows[0].n !== rows && !s.name.startsWith('limit')) throw new Error(`${s.name} (${state}): ${check.rows[0].n} rows of the run in the table, expected ${rows}`);
            if (s.name.startsWith('limit') && streams === 1) limit = secs;
            const r: Result = {
              strategy: s.name, idempotent: s.idempotent, state, streams, rows, seconds: secs, rowsPerSecond: Math.round(rows / secs),
              ratioToLimit: limit ? Math.round((limit / secs) * 100) / 100 : undefined, phases,
            };
            results.push(r);
            const ph = Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
            log(`${s.name} | ${state} | ${streams} stream(s) | ${secs.toFixed(1)} s | ${r.rowsPerSecond.toLocaleString('en-US')} rows/s | ${r.ratioToLimit ?? '-'} of the limit | ${ph}`);
          } finally {
            await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
          }
        }
      }
    }
  } finally {
    await pg.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
  const out = path.resolve(__dirname, '..', '..', 'bench', 'results', 'pg-load.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, results }, null, 2));
  log(`written ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
