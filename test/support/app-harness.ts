/**
 * Runs the real Outport roles in-process through `boot()` (the same composition root `npm start` uses), against
 * the suite's real services: a cloned metadata database, a fresh ClickHouse database with PostHog-shaped tables,
 * and an empty Postgres database as the export destination. Timings are tightened so retries and takeovers happen
 * in seconds.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { Client as PgClient } from 'pg';
import pino from 'pino';
import { container } from 'tsyringe';
import WebSocket from 'ws';
import { boot, type BootedApp, type BootOverrides } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createSourceClient, createSourceTables, parseSourceConfig } from '../../src/source';
import { SecretBox } from '../../src/store/secrets';
import { createTestDatabase, testServerUrl } from './pg';
import { seedTeam } from './seed';

export interface AppHarness {
  app: BootedApp;
  /** The environment the app was configured from: give it to a child `dist/src/main.js` to join as another process. */
  env: Record<string, string>;
  box: SecretBox;
  teamId: number;
  token: string;
  chDatabase: string;
  ch: ReturnType<typeof createSourceClient>;
  /** Connection settings of the destination database, as a postgres destination config. */
  destination: { host: string; port: number; database: string; user: string; password: string };
  destinationQuery<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  ws(): WsClient;
  waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms?: number): Promise<T>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  roles?: string;
  env?: Record<string, string>;
  overrides?: BootOverrides;
}

export async function startAppHarness(opts: HarnessOptions = {}): Promise<AppHarness> {
  const meta = await createTestDatabase('app');
  const dest = await createTestDatabase('dest', false);
  const chDatabase = `exec_${randomBytes(4).toString('hex')}`;
  const chUrl = process.env.OUTPORT_TEST_CLICKHOUSE_URL!;
  const ch = createSourceClient(parseSourceConfig({ url: chUrl }));
  await ch.command({ query: `CREATE DATABASE ${chDatabase}` });
  await createSourceTables(ch, { database: chDatabase });
  const key = randomBytes(32);
  const env: Record<string, string> = {
    DATABASE_URL: meta.url,
    CLICKHOUSE_URL: chUrl,
    CLICKHOUSE_DATABASE: chDatabase,
    OUTPORT_SECRET_KEY: key.toString('hex'),
    OUTPORT_ROLES: opts.roles ?? 'api,worker',
    PORT: '0',
    LOG_LEVEL: process.env.OUTPORT_TEST_LOG ?? 'silent',
    HEARTBEAT_SECONDS: '0.5',
    HEARTBEAT_TIMEOUT_SECONDS: '4',
    RETRY_INITIAL_SECONDS: '0.3',
    RETRY_MAX_SECONDS: '1',
    SETTLE_DELAY_SECONDS: '0',
    SCHEDULER_TICK: '* * * * * *',
    DEMO: 'false',
    ...opts.env,
  };
  const config = loadConfig(env);
  const log = pino({ level: config.LOG_LEVEL });
  const app = await boot(config, log, container.createChildContainer(), { skipFirstBoot: true, ...opts.overrides });
  const { teamId, token } = await seedTeam(app.dataSource, 'harness');
  const server = new URL(testServerUrl());
  const destination = { host: server.hostname, port: Number(server.port), database: dest.name, user: server.username, password: decodeURIComponent(server.password) };
  const destClient = new PgClient(dest.url);
  await destClient.connect();
  const clients: WsClient[] = [];

  async function gql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    if (!app.apiUrl) throw new Error('the harness was started without the api role');
    const res = await fetch(app.apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data as T;
  }

  return {
    app,
    env,
    box: new SecretBox(key),
    teamId,
    token,
    chDatabase,
    ch,
    destination,
    destinationQuery: async (sql, params) => (await destClient.query(sql, params)).rows,
    gql,
    ws() {
      const client = createWsClient({
        url: app.apiUrl!.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      });
      clients.push(client);
      return client;
    },
    async waitFor(what, fn, ms = 30_000) {
      const deadline = Date.now() + ms;
      let last: unknown;
      for (;;) {
        try {
          const v = await fn();
          if (v) return v as never;
        } catch (err) {
          last = err;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      for (const c of clients) await c.dispose();
      await app.stop();
      await destClient.end();
      await ch.command({ query: `DROP DATABASE IF EXISTS ${chDatabase}` }).catch(() => undefined);
      await ch.close();
    },
  };
}
