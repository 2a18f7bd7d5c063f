/**
 * The whole Outport server for the browser tests, in-process through `boot()` (api, scheduler and worker roles)
 * on a cloned metadata database, with a ClickHouse database of known events and short timings, serving the
 * freshly built dashboard from dashboard/dist.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import { container } from 'tsyringe';
import { boot, type BootedApp } from '../../src/app';
import { loadConfig, teamLocalFilesDirectory } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createSourceTables } from '../../src/source/schema';
import { createTestDatabase } from '../support/pg';
import { seedTeam } from '../support/seed';

const ROOT = path.resolve(__dirname, '..', '..');

/** Events per hour of 2024-01-10 (UTC), by hour: what a backfill of 00:00-03:00 must export. */
export const EVENTS_PER_HOUR = [5, 7, 11] as const;
export const EVENTS_DAY = '2024-01-10';

export interface E2eServer {
  origin: string;
  token: string;
  app: BootedApp;
  /** A scratch directory. */
  tmp: string;
  /** The seeded team's folder for local-files destinations (OUTPORT_LOCAL_FILES_ROOT/team-<id>), created. */
  teamFiles: string;
  teamId: number;
  /** The ClickHouse database holding the source tables (custom queries name it: `<chDatabase>.events`). */
  chDatabase: string;
  /** A GraphQL request as the team's token (or `token`); throws the first error, with its `code`. */
  api<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T>;
  stop(): Promise<void>;
}

/** Builds the dashboard the way `npm run build` does, so the test exercises the current source. */
export function buildDashboard(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'dashboard', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
  });
}

const chTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

async function seedEvents(url: string, database: string, teamId: number): Promise<void> {
  const ch = createClient({ url });
  try {
    await createSourceTables(ch, { database });
    const rows = EVENTS_PER_HOUR.flatMap((count, hour) => Array.from({ length: count }, (_v, i) => {
      const at = new Date(Date.UTC(2024, 0, 10, hour, i * 5 + 1, 7, 123));
      return {
        uuid: randomUUID(), event: i % 2 ? '$pageview' : 'signed_up', properties: JSON.stringify({ $browser: 'Chrome', n: i, note: 'émoji 🚀 "quoted"' }),
        timestamp: chTime(at), team_id: teamId, distinct_id: `user-${i}`, elements_chain: '', created_at: chTime(at),
        person_id: randomUUID(), person_properties: '{}', inserted_at: chTime(at), _timestamp: chTime(at).slice(0, 19), _offset: i,
      };
    }));
    await ch.insert({ table: `${database}.events`, values: rows, format: 'JSONEachRow' });
  } finally {
    await ch.close();
  }
}

export async function startE2eServer(): Promise<E2eServer> {
  buildDashboard();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-e2e-'));
  const db = await createTestDatabase('e2e');
  const chDatabase = `e2e_${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    OUTPORT_SECRET_KEY: randomBytes(32).toString('hex'),
    OUTPORT_DATA_DIR: path.join(tmp, 'data'),
    OUTPORT_LOCAL_FILES_ROOT: path.join(tmp, 'files'),
    OUTPORT_ROLES: 'api,scheduler,worker',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.OUTPORT_TEST_LOG ?? 'silent',
    CLICKHOUSE_DATABASE: chDatabase,
    SCHEDULER_TICK: '* * * * * *',
    SETTLE_DELAY_SECONDS: '0',
    RETRY_INITIAL_SECONDS: '0.2',
    RETRY_MAX_SECONDS: '1',
    RETRY_MAX_ATTEMPTS: '2',
    HEARTBEAT_SECONDS: '0.5',
    DEMO: 'false',
  };
  // Without the suite's ClickHouse, boot() starts an embedded one in the data folder.
  if (process.env.OUTPORT_TEST_CLICKHOUSE_URL) env.CLICKHOUSE_URL = process.env.OUTPORT_TEST_CLICKHOUSE_URL;
  const config = loadConfig(env);
  const app = await boot(config, createLogger(env.LOG_LEVEL), container.createChildContainer(), { skipFirstBoot: true });
  try {
    const { teamId, token } = await seedTeam(app.dataSource, 'E2E team');
    await seedEvents(app.clickhouseUrl, chDatabase, teamId);
    const teamFiles = teamLocalFilesDirectory(config, teamId);
    fs.mkdirSync(teamFiles, { recursive: true });
    return {
      teamFiles,
      teamId,
      chDatabase,
      origin: new URL(app.apiUrl!).origin,
      token,
      app,
      tmp,
      async api<T>(query: string, variables: Record<string, unknown> = {}, asToken = token): Promise<T> {
        const res = await fetch(new URL('/graphql', app.apiUrl!), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${asToken}` },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
        if (body.errors?.length) throw Object.assign(new Error(body.errors[0].message), { code: body.errors[0].extensions?.code });
        return body.data as T;
      },
      async stop() {
        await app.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await app.stop();
    throw err;
  }
}

/** Manifests written under a local-files directory, with the rows each lists. */
export function manifestsUnder(dir: string): { file: string; rows: number }[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('_manifest.json'))
    .map((f) => ({ file: f, rows: Number(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).rows) }));
}
