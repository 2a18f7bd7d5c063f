/**
 * Wires the services for a configuration and starts the requested roles. main.ts calls it for `npm start`;
 * integration tests call it to run real roles in-process (with an injected clock and tighter timings).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DependencyContainer } from 'tsyringe';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { startApiServer as StartApiServer } from './api/server';
import type { Config } from './config';
import type { Logger } from './logger';
import { pluginLogger } from './logger';
import { discoverPlugins, PluginRegistry } from './plugins';
import { startScheduler } from './scheduler/scheduler';
import { ClickHouseSource, createSourceClient, parseSourceConfig, startEmbeddedClickHouse, type SourceConfig } from './source';
import { createDataSource } from './store/data-source';
import { startEmbeddedPostgres } from './store/embedded-postgres';
import { ChangeListener } from './store/event-bus';
import { migrateMetadataStore } from './store/migrate';
import { parseSecretKey, SecretBox } from './store/secrets';
import { createFirstTeam } from './store/first-boot';
import { isStoreUnavailable, sleep } from './store/availability';
import { CLOCK, CONFIG, DATA_SOURCE, LOGGER, SECRET_BOX, SOURCE, systemClock, type Clock } from './tokens';
import { startWorker } from './worker/worker';
import { Health, startHealthServer, storeCheck } from './health';
import { Metrics } from './metrics';
import { startRetention } from './store/retention';
import type { setUpDemo as SetUpDemo } from './demo';

export interface BootedApp {
  apiUrl?: string;
  /** `/healthz` and `/readyz` of a process without the api role (the API serves them itself). */
  healthUrl?: string;
  databaseUrl: string;
  clickhouseUrl: string;
  /** Printed once on first boot; only its hash is stored. */
  firstToken?: string;
  dataSource: DataSource;
  stop(): Promise<void>;
}

export interface BootOverrides {
  clock?: Clock;
  /** Skip first-boot team/token creation and demo data (tests seed their own). */
  skipFirstBoot?: boolean;
  pluginDirs?: string[];
  secretKey?: Buffer;
}

type Stop = () => Promise<unknown>;

export async function boot(config: Config, log: Logger, c: DependencyContainer, overrides: BootOverrides = {}): Promise<BootedApp> {
  const stops: Stop[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log.warn({ err: String(err) }, 'stop failed'));
  };
  try {
    fs.mkdirSync(config.OUTPORT_DATA_DIR, { recursive: true });
    const embeddedStore = !config.DATABASE_URL;
    const databaseUrl = config.DATABASE_URL ?? (await embeddedDatabase(config, log, stops));
    const secretKey = overrides.secretKey ?? loadSecretKey(config, embeddedStore);

    await waitAtBoot(log, `the metadata store at ${hostOf(databaseUrl)} (DATABASE_URL)`, async () => {
      const probe = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
      try {
        await probe.connect();
        await probe.query('SELECT 1');
      } finally {
        await probe.end().catch(() => undefined);
      }
    });
    await migrateMetadataStore(databaseUrl);
    const ds = createDataSource(databaseUrl, { poolSize: 20 });
    await ds.initialize();
    stops.push(() => ds.destroy());
    const metrics = new Metrics(ds);

    const clickhouseUrl = config.CLICKHOUSE_URL ?? (await embeddedClickHouse(config, stops));
    const sourceConfig = sourceConfigFrom(config, clickhouseUrl);
    const chClient = createSourceClient(sourceConfig);
    stops.push(() => chClient.close());
    await waitAtBoot(log, `ClickHouse at ${hostOf(clickhouseUrl)} (CLICKHOUSE_URL)`, async () => {
      await (await chClient.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
    });
    const source = new ClickHouseSource(chClient, sourceConfig);

    const registry = await discoverPlugins({
      dirs: [path.join(__dirname, '..', 'plugins'), ...config.PLUGIN_DIRS.split(',').filter(Boolean), ...(overrides.pluginDirs ?? [])],
      packageRoots: [path.join(config.projectRoot, 'node_modules')],
      logger: pluginLogger(log.child({ component: 'plugins' })),
    });
    const clock = overrides.clock ?? systemClock;
    const secrets = new SecretBox(secretKey);
    c.register(CONFIG, { useValue: config });
    c.register(LOGGER, { useValue: log });
    c.register(DATA_SOURCE, { useValue: ds });
    c.register(SECRET_BOX, { useValue: secrets });
    c.register(SOURCE, { useValue: source });
    c.register(CLOCK, { useValue: clock });
    c.register(PluginRegistry, { useValue: registry });

    let firstToken: string | undefined;
    if (!overrides.skipFirstBoot) {
      const first = await createFirstTeam(ds);
      firstToken = first?.token;
      if (first && config.DEMO && !config.CLICKHOUSE_URL) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { setUpDemo } = require('./demo') as { setUpDemo: typeof SetUpDemo };
        await setUpDemo({ c, chClient, sourceConfig, config, teamId: first.teamId, log });
      }
    }

    const app: BootedApp = { databaseUrl, clickhouseUrl, firstToken, dataSource: ds, stop: stopAll };
    const roles = new Set(config.OUTPORT_ROLES);
    const health = new Health();
    health.add('metadata store', storeCheck(ds));
    if (roles.has('worker')) {
      const worker = await startWorker({
        ds,
        log: log.child({ role: 'worker' }),
        registry,
        source,
        secrets,
        databaseUrl,
        concurrency: config.WORKER_CONCURRENCY,
        heartbeatTimeoutSeconds: config.HEARTBEAT_TIMEOUT_SECONDS,
        metrics,
        options: {
          backoff: { initialMs: config.RETRY_INITIAL_SECONDS * 1000, maxMs: config.RETRY_MAX_SECONDS * 1000 },
          maxAttempts: config.RETRY_MAX_ATTEMPTS,
          heartbeatMs: config.HEARTBEAT_SECONDS * 1000,
          batchSize: config.SOURCE_BATCH_SIZE,
          localFilesRoot: config.OUTPORT_LOCAL_FILES_ROOT,
          autoPause: { failures: config.AUTO_PAUSE_FAILURES, window: config.AUTO_PAUSE_WINDOW },
          destinationNetworks: config.OUTPORT_DESTINATION_NETWORKS,
        },
      });
      stops.push(() => worker.stop());
      health.add('worker', worker.readiness);
    }
    if (roles.has('scheduler')) {
      const scheduler = startScheduler(ds, log.child({ role: 'scheduler' }), clock, config.SCHEDULER_TICK, {
        settleMs: config.SETTLE_DELAY_SECONDS * 1000,
        catchUpLimit: config.CATCH_UP_LIMIT,
      });
      stops.push(() => scheduler.stop());
      health.add('scheduler', scheduler.readiness);
      const retention = startRetention(ds, log.child({ role: 'scheduler', component: 'retention' }), {
        runDays: config.RUN_RETENTION_DAYS,
        logDays: config.LOG_RETENTION_DAYS,
        keepLatestRuns: config.AUTO_PAUSE_WINDOW,
        everyMs: config.RETENTION_INTERVAL_SECONDS * 1000,
      });
      stops.push(() => retention.stop());
    }
    if (roles.has('api')) {
      const listener = new ChangeListener(databaseUrl, (err) => log.warn({ err: String(err) }, 'change listener error'));
      await listener.start();
      stops.push(() => listener.stop());
      const staticDir = path.join(config.projectRoot, 'dashboard', 'dist');
      // Loaded with the role only: the GraphQL stack is ~30 MiB of a process's memory, and a worker has no use for it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { startApiServer } = require('./api/server') as { startApiServer: typeof StartApiServer };
      const api = await startApiServer({
        container: c,
        config,
        logger: log.child({ role: 'api' }),
        listener,
        host: config.HOST,
        port: config.PORT,
        staticDir: fs.existsSync(staticDir) ? staticDir : undefined,
        health,
        metrics,
      });
      stops.push(() => api.stop());
      app.apiUrl = api.url;
    } else {
      const port = config.HEALTH_PORT ?? config.PORT;
      try {
        const server = await startHealthServer(health, config.HOST, port, log, metrics);
        stops.push(() => server.stop());
        app.healthUrl = server.url;
      } catch (err) {
        // A second worker on the same machine must still work; it only lacks its probes.
        log.error({ err: String(err), port }, `health endpoints not served: port ${port} is unavailable; set HEALTH_PORT to a free port (0 picks one)`);
      }
    }
    return app;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function embeddedDatabase(config: Config, log: Logger, stops: Stop[]): Promise<string> {
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(config.OUTPORT_DATA_DIR, 'postgres'),
    onLog: (line) => log.debug({ component: 'embedded-postgres' }, line),
  });
  stops.push(() => pg.stop());
  const admin = new Client(pg.url);
  await admin.connect();
  try {
    const { rowCount } = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'outport'`);
    if (!rowCount) await admin.query('CREATE DATABASE outport');
  } finally {
    await admin.end();
  }
  log.info({ dataDir: pg.dataDir, port: pg.port }, 'embedded Postgres started (no DATABASE_URL set)');
  return pg.url.replace(/\/postgres$/, '/outport');
}

async function embeddedClickHouse(config: Config, stops: Stop[]): Promise<string> {
  const ch = await startEmbeddedClickHouse({ dataDir: path.join(config.OUTPORT_DATA_DIR, 'clickhouse') });
  stops.push(() => ch.stop());
  return ch.url;
}

/**
 * With an external DATABASE_URL the key must be given: several processes share the store and must share the key.
 * On embedded defaults one is generated into the data folder, readable only by the owner.
 */
function loadSecretKey(config: Config, embeddedStore: boolean): Buffer {
  if (config.OUTPORT_SECRET_KEY) return parseSecretKey(config.OUTPORT_SECRET_KEY);
  if (!embeddedStore) {
    throw new Error('OUTPORT_SECRET_KEY is required with DATABASE_URL (generate one with: openssl rand -hex 32)');
  }
  const file = path.join(config.OUTPORT_DATA_DIR, 'secret.key');
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  return parseSecretKey(fs.readFileSync(file, 'utf8'));
}

/**
 * Waits at start-up for a server that is not up yet (started in the same compose file or pod, restarting), instead
 * of exiting and crash-looping: retried with capped backoff while it is unreachable, one log line saying what is
 * awaited and one every minute after. Any other error (bad password, missing database) fails the start at once.
 */
async function waitAtBoot(log: Logger, what: string, attempt: () => Promise<void>): Promise<void> {
  const since = Date.now();
  let delay = 250;
  let lastLog = 0;
  for (;;) {
    try {
      await attempt();
      if (lastLog) log.info({ waitedMs: Date.now() - since }, `${what} is up: starting`);
      return;
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      if (Date.now() - lastLog >= 60_000) {
        log.warn({ err: err instanceof Error ? err.message : String(err), waitedMs: Date.now() - since }, `waiting for ${what} to accept connections before starting`);
        lastLog = Date.now();
      }
      await sleep(delay);
      delay = Math.min(5_000, delay * 2);
    }
  }
}

/** host:port of a URL, for log lines that must not show its password. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unparsable URL)';
  }
}

function sourceConfigFrom(config: Config, url: string): SourceConfig {
  return parseSourceConfig({
    url,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
    tables: {
      events: config.CLICKHOUSE_EVENTS_TABLE,
      person: config.CLICKHOUSE_PERSON_TABLE,
      personDistinctId: config.CLICKHOUSE_PERSON_DISTINCT_ID_TABLE,
    },
    lookbackDays: config.CLICKHOUSE_LOOKBACK_DAYS,
    maxExecutionTime: config.CLICKHOUSE_MAX_EXECUTION_TIME,
    maxMemoryUsage: config.CLICKHOUSE_MAX_MEMORY_USAGE,
    batchSize: config.SOURCE_BATCH_SIZE,
  });
}
