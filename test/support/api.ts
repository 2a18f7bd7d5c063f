/**
 * Starts the API the way main.ts does (container with the real DataSource, SecretBox, plugin registry and
 * change listener), on a cloned metadata database and a free port, and seeds two teams with tokens.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client as WsClient } from 'graphql-ws';
import pino from 'pino';
import { container } from 'tsyringe';
import type { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { startApiServer, type ApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { discoverPlugins, PluginRegistry } from '../../src/plugins';
import { createDataSource } from '../../src/store/data-source';
import { ChangeListener } from '../../src/store/event-bus';
import { SecretBox } from '../../src/store/secrets';
import { CLOCK, CONFIG, DATA_SOURCE, LOGGER, SECRET_BOX, SOURCE, systemClock } from '../../src/tokens';
import { seedTeam, seedToken } from './seed';
import { createTestDatabase } from './pg';

const ROOT = path.resolve(__dirname, '..', '..');

export interface SeededTeam {
  id: number;
  /** read + write */
  token: string;
  readToken: string;
  revokedToken: string;
}

export interface GqlResult<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; field?: string; [k: string]: unknown }; path?: string[] }[];
}

export interface ApiHarness {
  url: string;
  wsUrl: string;
  dbUrl: string;
  ds: DataSource;
  box: SecretBox;
  a: SeededTeam;
  b: SeededTeam;
  /** OUTPORT_LOCAL_FILES_ROOT of this server: a fresh temporary folder (team folders are `team-<id>` in it). */
  localFilesRoot: string;
  gql<T = any>(token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** Like gql but throws on errors; returns data. */
  ok<T = any>(token: string, query: string, variables?: Record<string, unknown>): Promise<T>;
  ws(params?: Record<string, unknown>): WsClient;
  /** Resolves once exactly `n` subscriptions listen on this server's change feed (graphql-ws does not ack a subscribe). */
  listening(n: number, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

async function seedApiTeam(ds: DataSource, name: string): Promise<SeededTeam> {
  const { teamId: id, token } = await seedTeam(ds, name);
  return { id, token, readToken: await seedToken(ds, id, ['read']), revokedToken: await seedToken(ds, id, ['read', 'write'], true) };
}

export interface HarnessOptions {
  /** A ClickHouse source (registered as SOURCE) for estimates; without one, estimates carry no rows/bytes. */
  source?: unknown;
  /** Static files served at `/`. */
  staticDir?: string;
  /** Settings (environment variables) on top of the test defaults. */
  env?: NodeJS.ProcessEnv;
}

export async function startApiHarness(options: HarnessOptions = {}): Promise<ApiHarness> {
  const db = await createTestDatabase('api');
  const ds = createDataSource(db.url, { poolSize: 5 });
  await ds.initialize();
  const logger = pino({ level: process.env.OUTPORT_TEST_LOG ?? 'silent' });
  const box = new SecretBox(randomBytes(32));
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const registry = await discoverPlugins({
    dirs: [path.join(ROOT, 'plugins'), path.join(ROOT, 'test', 'fixtures', 'plugins'), path.join(ROOT, 'test', 'api', 'fixtures', 'plugins')],
    logger: silent,
  });
  const c = container.createChildContainer();
  // Never the checkout's .outport/exports: each harness gets its own local-files root.
  const config = loadConfig({ OUTPORT_LOCAL_FILES_ROOT: fs.mkdtempSync(path.join(os.tmpdir(), 'outport-api-files-')), ...options.env });
  c.register(CONFIG, { useValue: config });
  c.register(LOGGER, { useValue: logger });
  c.register(DATA_SOURCE, { useValue: ds });
  c.register(SECRET_BOX, { useValue: box });
  // Without a source SOURCE stays unregistered (tsyringe cannot hold an undefined value).
  if (options.source) c.register(SOURCE, { useValue: options.source });
  c.register(CLOCK, { useValue: systemClock });
  c.register(PluginRegistry, { useValue: registry });
  const listener = new ChangeListener(db.url);
  await listener.start();
  const server: ApiServer = await startApiServer({ container: c, config, logger, listener, host: '127.0.0.1', port: 0, staticDir: options.staticDir, testConnectionTimeoutMs: 1000 });
  const a = await seedApiTeam(ds, 'Team A');
  const b = await seedApiTeam(ds, 'Team B');
  const clients: WsClient[] = [];

  const gql = async (token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GqlResult> => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GqlResult;
    return { status: res.status, data: body.data ?? undefined, errors: body.errors };
  };
  return {
    url: server.url,
    wsUrl: server.url.replace(/^http/, 'ws'),
    dbUrl: db.url,
    ds,
    box,
    a,
    b,
    localFilesRoot: config.OUTPORT_LOCAL_FILES_ROOT,
    gql,
    async ok(token, query, variables) {
      const r = await gql(token, query, variables);
      if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
      return r.data;
    },
    ws(params) {
      const client = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: params, retryAttempts: 0, lazy: true });
      clients.push(client);
      return client;
    },
    async listening(n, ms = 10_000) {
      const emitter = (listener as unknown as { emitter: import('node:events').EventEmitter }).emitter;
      const deadline = Date.now() + ms;
      while (emitter.listenerCount('change') !== n) {
        if (Date.now() > deadline) throw new Error(`only ${emitter.listenerCount('change')} of ${n} subscriptions listening`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      for (const client of clients) await client.dispose();
      await server.stop();
      await listener.stop();
      await ds.destroy();
    },
  };
}

/** Collects a subscription's results until `count` arrived or `ms` passed (whichever first). */
export function collect<T = any>(client: WsClient, query: string, variables: Record<string, unknown> = {}) {
  const results: { data?: T; errors?: GqlResult['errors'] }[] = [];
  let error: unknown;
  let completed = false;
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  const unsubscribe = client.subscribe<T>({ query, variables }, {
    next: (r) => {
      results.push(r as never);
      notify();
    },
    error: (e) => {
      error = e;
      notify();
    },
    complete: () => {
      completed = true;
      notify();
    },
  });
  return {
    results,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
    unsubscribe,
    /** Resolves when `pred` holds, or rejects after `ms`. */
    async until(pred: () => boolean, ms = 10_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!pred()) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting; got ${JSON.stringify(results)} error=${String(error)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 200));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
  };
}
