/**
 * `npm run bench:latency`: how long from an interval closing to its run completing (empty and 100k-row intervals),
 * and how many runs per second one process's scheduler and workers sustain.
 *
 * Runs the real roles through boot() on embedded Postgres and ClickHouse, with a clock shifted so that an interval
 * closes two seconds after start; SETTLE_DELAY_SECONDS=0 and a 1 s scheduler tick, so the figures show Outport's
 * own overhead (production adds the settle delay, 30 s by default).
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { container } from 'tsyringe';
import { boot } from '../src/app';
import { loadConfig } from '../src/config';
import { createSourceClient, createSourceTables, insertBulkEvents, parseSourceConfig, startEmbeddedClickHouse } from '../src/source';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres';
import { displayPrefix, generateToken, hashToken } from '../src/store/tokens';

const FIVE_MIN = 300_000;

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-latency-'));
  fs.chmodSync(root, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(root, 'pg'), persistent: false });
  const ch = await startEmbeddedClickHouse({ dataDir: path.join(root, 'ch') });
  const chClient = createSourceClient(parseSourceConfig({ url: ch.url }));
  await chClient.command({ query: 'CREATE DATABASE bench' });
  await createSourceTables(chClient, { database: 'bench' });

  // The fake clock: the 5-minute interval [boundary - 5 min, boundary) closes 2 s after start.
  const boundary = Date.parse('2026-09-01T10:05:00Z');
  const offset = boundary - (Date.now() + 2000);
  const clock = { now: () => new Date(Date.now() + offset) };
  await insertBulkEvents(chClient, { database: 'bench' }, {
    seed: 1, count: 100_000, teams: 1, start: new Date(boundary - FIVE_MIN - 30_000), stepMicros: (FIVE_MIN * 1000) / 100_000 - 1,
  });

  const config = loadConfig({
    DATABASE_URL: pg.url, CLICKHOUSE_URL: ch.url, CLICKHOUSE_DATABASE: 'bench', OUTPORT_SECRET_KEY: randomBytes(32).toString('hex'),
    OUTPORT_ROLES: 'scheduler,worker', LOG_LEVEL: 'warn', SETTLE_DELAY_SECONDS: '0', SCHEDULER_TICK: '* * * * * *',
    WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '4', DEMO: 'false', OUTPORT_DATA_DIR: path.join(root, 'data'),
  });
  const app = await boot(config, pino({ level: 'warn' }), container.createChildContainer(), { clock, skipFirstBoot: true });
  const ds = app.dataSource;
  const [team] = await ds.query(`INSERT INTO teams (name) VALUES ('bench') RETURNING id`);
  const token = generateToken();
  await ds.query(`INSERT INTO api_tokens (team_id, name, token_hash, display_prefix, scopes) VALUES ($1, 'b', $2, $3, '{read,write}')`, [team.id, hashToken(token), displayPrefix(token)]);
  const [dest] = await ds.query(`INSERT INTO destinations (team_id, name, type, config) VALUES ($1, 'files', 'local-files', $2) RETURNING id`, [
    team.id, { path: path.join(root, 'exports') },
  ]);
  const since = new Date(boundary - FIVE_MIN);
  const mk = (name: string, teamId: number) =>
    ds.query(
      `INSERT INTO batch_exports (team_id, name, destination_id, model, interval, scheduled_until) VALUES ($1, $2, $3, 'events', 'every_5_minutes', $4) RETURNING id`,
      [teamId, name, dest.id, since],
    ).then((r: { id: string }[]) => r[0].id);
  // team 1 holds the 100k rows; a second team's export sees the same interval empty.
  const [other] = await ds.query(`INSERT INTO teams (name) VALUES ('empty') RETURNING id`);
  const full = await mk('100k rows', team.id);
  const empty = await mk('empty', other.id);

  const closedAt = boundary - offset; // real time at which the fake clock passes the boundary
  const completion = async (id: string) => {
    for (;;) {
      const [r] = await ds.query(`SELECT status, finished_at, records_completed FROM runs WHERE batch_export_id = $1 AND interval_end = $2`, [id, new Date(boundary)]);
      if (r && ['Completed', 'Failed'].includes(r.status)) return { status: r.status, seconds: (new Date(r.finished_at).getTime() - closedAt) / 1000, rows: Number(r.records_completed) };
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  const [e, f] = await Promise.all([completion(empty), completion(full)]);

  // Throughput: many exports whose next interval closes at once.
  const n = Number(process.env.EXPORTS ?? 1000);
  const [bulkTeam] = await ds.query(`INSERT INTO teams (name) VALUES ('many') RETURNING id`);
  await ds.query(
    `INSERT INTO batch_exports (team_id, name, destination_id, model, interval, scheduled_until)
     SELECT $1, 'e' || g, $2, 'events', 'every_5_minutes', $3 FROM generate_series(1, $4) g`,
    [bulkTeam.id, dest.id, new Date(boundary), n],
  );
  const nextClose = boundary + FIVE_MIN;
  const wait = nextClose - clock.now().getTime();
  await new Promise((res) => setTimeout(res, Math.max(0, wait)));
  const t0 = Date.now();
  let created = 0;
  for (;;) {
    const [s] = await ds.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'Completed')::int AS done FROM runs r JOIN batch_exports b ON b.id = r.batch_export_id WHERE b.team_id = $1`,
      [bulkTeam.id],
    );
    if (!created && s.total === n) created = (Date.now() - t0) / 1000;
    if (s.done === n) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const total = (Date.now() - t0) / 1000;
  const result = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    workerConcurrency: config.WORKER_CONCURRENCY,
    emptyInterval: e,
    interval100k: f,
    throughput: { exports: n, secondsToCreateRuns: created, secondsToCompleteAll: total, runsPerSecond: Math.round(n / total) },
  };
  console.log(JSON.stringify(result, null, 2));
  fs.mkdirSync(path.join(__dirname, '..', '..', 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, '..', '..', 'bench', 'results', 'latency.json'), JSON.stringify(result, null, 2));
  await app.stop();
  await chClient.close();
  await ch.stop();
  await pg.stop();
  fs.rmSync(root, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
