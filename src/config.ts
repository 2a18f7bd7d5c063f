/**
 * The one configuration object, read from environment variables and validated with zod. Every default works on a
 * fresh machine: no DATABASE_URL starts an embedded Postgres, no CLICKHOUSE_URL an embedded ClickHouse.
 */
import path from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { parseNetworkPolicy } from './plugins/network-policy';
import { parseSecretKey } from './store/secrets';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const ROLES = ['api', 'scheduler', 'worker'] as const;

/**
 * A URL with one of `schemes`. `new URL('localhost:5432/outport')` parses (scheme "localhost:"), so a plain
 * `.url()` check lets a URL without its scheme through, to fail later at connect time with an obscure error.
 */
const urlWithScheme = (schemes: string[], example: string) =>
  z.string().superRefine((value, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      // reported below
    }
    if (!url || !schemes.includes(url.protocol.replace(/:$/, '')) || !url.hostname) {
      ctx.addIssue({ code: 'custom', message: `"${redactUrl(value)}" is not a ${schemes[0]} URL; write it with its scheme and host, e.g. ${example}` });
    }
  });

function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

export const ConfigSchema = z.object({
  DATABASE_URL: urlWithScheme(['postgres', 'postgresql'], 'postgres://user:password@localhost:5432/outport').optional().describe('Metadata Postgres. Unset: an embedded Postgres under OUTPORT_DATA_DIR.'),
  OUTPORT_DATA_DIR: z.string().default('.outport').describe('Where embedded Postgres/ClickHouse data, the generated secret key and local exports live.'),
  OUTPORT_LOCAL_FILES_ROOT: z.string().optional().describe('Folder local-files destinations write under, one team-<id> subfolder per team; a destination\'s path is resolved inside its team\'s folder and cannot leave it. Unset: OUTPORT_DATA_DIR/exports.'),
  OUTPORT_SECRET_KEY: z
    .string()
    .refine((v) => {
      try {
        parseSecretKey(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be 64 hex characters or base64 of 32 random bytes; generate one with: openssl rand -hex 32 (keep the same key for every process and restart: it decrypts stored destination secrets)')
    .optional().describe('AES-256 key for destination secrets (64 hex chars or base64 of 32 bytes). Unset: generated into OUTPORT_DATA_DIR/secret.key (0600).'),
  OUTPORT_ROLES: z
    .string()
    .default('api,scheduler,worker')
    .transform((s, ctx) => {
      const roles = s.split(',').map((r) => r.trim()).filter(Boolean);
      const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
      if (bad.length || roles.length === 0) {
        ctx.addIssue({ code: 'custom', message: `unknown role(s) ${bad.join(', ') || '(none)'}; use any of ${ROLES.join(', ')}` });
        return z.NEVER;
      }
      return roles as (typeof ROLES)[number][];
    })
    .describe('Which roles this process runs: any of api, scheduler, worker.'),
  HOST: z.string().default('127.0.0.1').describe('Interface the API listens on.'),
  PORT: int(0, 65535).default(8000).describe('API port (HTTP and WebSocket on /graphql).'),
  HEALTH_PORT: int(0, 65535).optional().describe('Port of /healthz and /readyz in a process without the api role (the API serves them on PORT). Unset: PORT; if it is taken, the process runs without them and says so.'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto').describe('Process log format: json (one object per line, for collectors), pretty (aligned, readable lines) or auto (pretty when stdout is a terminal, else json).'),
  CLICKHOUSE_URL: urlWithScheme(['http', 'https'], 'http://localhost:8123').optional().describe('Source ClickHouse HTTP URL. Unset: an embedded ClickHouse (chdb).'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().default('default'),
  CLICKHOUSE_EVENTS_TABLE: z.string().default('events'),
  CLICKHOUSE_PERSON_TABLE: z.string().default('person'),
  CLICKHOUSE_PERSON_DISTINCT_ID_TABLE: z.string().default('person_distinct_id2'),
  CLICKHOUSE_LOOKBACK_DAYS: int(0, 365).default(7).describe('Timestamp guard: events older than interval start minus this are not scanned.'),
  CLICKHOUSE_MAX_EXECUTION_TIME: int(0).default(3600).describe('Seconds; ClickHouse setting max_execution_time for source queries.'),
  CLICKHOUSE_MAX_MEMORY_USAGE: int(0).default(0).describe('Bytes; ClickHouse setting max_memory_usage (0 = server default).'),
  SOURCE_BATCH_SIZE: int(1, 1_000_000).default(5_000).describe('Rows per record batch handed to a destination.'),
  WORKER_CONCURRENCY: int(1, 64).default(2).describe('Runs one worker process executes at once.'),
  SCHEDULER_TICK: z
    .string()
    .refine((v) => cron.validate(v), { error: (issue) => `"${String(issue.input)}" is not a cron expression; write 5 or 6 fields (seconds first when 6), e.g. "*/10 * * * * *" for every 10 seconds` })
    .default('*/10 * * * * *').describe('node-cron expression of the scheduler tick (with seconds).'),
  SETTLE_DELAY_SECONDS: int(0).default(30).describe('Wait after an interval closes before exporting it (late-arriving rows).'),
  CATCH_UP_LIMIT: int(1).default(1000).describe('Most missed intervals one export catches up on per tick.'),
  RETRY_INITIAL_SECONDS: z.coerce.number().min(0).default(5),
  RETRY_MAX_SECONDS: z.coerce.number().min(0).default(120),
  RETRY_MAX_ATTEMPTS: int(1, 100).default(10).describe('Attempts before a retryable failure becomes Failed.'),
  HEARTBEAT_SECONDS: z.coerce.number().positive().default(5),
  HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().positive().default(60).describe('A running run without heartbeat this long is taken over by another worker.'),
  AUTO_PAUSE_FAILURES: int(0).default(10).describe('Pause an export after this many failed runs among its last AUTO_PAUSE_WINDOW (0 disables).'),
  AUTO_PAUSE_WINDOW: int(1).default(50),
  RUN_RETENTION_DAYS: int(0).default(90).describe('Finished runs created more than this many days ago are deleted by the scheduler role (0 keeps them forever). Unfinished runs and each export\'s runs of its latest AUTO_PAUSE_WINDOW intervals are always kept.'),
  LOG_RETENTION_DAYS: int(0).default(30).describe('Run and export log entries older than this many days are deleted by the scheduler role (0 keeps them forever).'),
  RETENTION_INTERVAL_SECONDS: int(1).default(3600).describe('How often the scheduler role prunes runs and logs (in batches of 1000 rows, one export at a time).'),
  PLUGIN_DIRS: z.string().default('').describe('Extra folders of destination plugins, comma separated (plugins/ is always scanned).'),
  DEMO: bool.default(true).describe('On embedded defaults: create demo data, a local-files destination and an export on first boot.'),
  OUTPORT_GRAPHQL_MAX_TOKENS: int(100).default(5000).describe('Most lexer tokens in one GraphQL document; longer documents are refused before validation.'),
  OUTPORT_GRAPHQL_MAX_DEPTH: int(1).default(15).describe('Deepest selection nesting of a GraphQL request.'),
  OUTPORT_GRAPHQL_MAX_ALIASES: int(0).default(25).describe('Most field aliases in one GraphQL request.'),
  OUTPORT_GRAPHQL_MAX_FRAGMENTS: int(0).default(50).describe('Most fragment definitions in one GraphQL document.'),
  OUTPORT_GRAPHQL_MAX_COST: int(1).default(20_000).describe('Largest estimated cost of a GraphQL request: each field counts 1, multiplied by the page sizes (first, limit) of the lists above it.'),
  OUTPORT_GRAPHQL_MAX_EXPENSIVE_FIELDS: int(1).default(3).describe('Most testDestination, estimateBackfill and createBackfill fields in one GraphQL request.'),
  OUTPORT_DESTINATION_NETWORKS: z
    .string()
    .superRefine((v, ctx) => {
      try {
        parseNetworkPolicy(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^OUTPORT_DESTINATION_NETWORKS: /, '') });
      }
    })
    .default('').describe('Network locations users may point destinations and the webhook at: comma-separated deny:<cidr|private> and allow:<cidr> rules (allow wins). Empty (default): everything allowed; multi-tenant servers should set deny:private.'),
});

export type Config = z.infer<typeof ConfigSchema> & { projectRoot: string; OUTPORT_LOCAL_FILES_ROOT: string };

/** The one folder a team's local-files destinations may write in (handed to plugins as `localFilesDirectory`). */
export function teamLocalFilesDirectory(config: Pick<Config, 'OUTPORT_LOCAL_FILES_ROOT'>, teamId: number): string {
  return path.join(config.OUTPORT_LOCAL_FILES_ROOT, `team-${teamId}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * `forServer`: also check what only a server process needs (the CLI reads the same variables but never decrypts
 * destination secrets), so `outport` keeps working where OUTPORT_SECRET_KEY is not given to it.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { forServer?: boolean } = {}): Config {
  const relevant = Object.fromEntries(
    Object.keys(ConfigSchema.shape).filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]),
  );
  const parsed = ConfigSchema.safeParse(relevant);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  if (opts.forServer && relevant.DATABASE_URL && !relevant.OUTPORT_SECRET_KEY) {
    problems.push('  OUTPORT_SECRET_KEY: required with DATABASE_URL (every process sharing the store must decrypt the same destination secrets); generate one with: openssl rand -hex 32');
  }
  if (parsed.success && parsed.data.RETRY_MAX_SECONDS < parsed.data.RETRY_INITIAL_SECONDS) {
    problems.push(`  RETRY_MAX_SECONDS: ${parsed.data.RETRY_MAX_SECONDS} is below RETRY_INITIAL_SECONDS (${parsed.data.RETRY_INITIAL_SECONDS}); raise it or lower RETRY_INITIAL_SECONDS`);
  }
  if (parsed.success && parsed.data.HEARTBEAT_TIMEOUT_SECONDS <= parsed.data.HEARTBEAT_SECONDS) {
    problems.push(`  HEARTBEAT_TIMEOUT_SECONDS: ${parsed.data.HEARTBEAT_TIMEOUT_SECONDS} must exceed HEARTBEAT_SECONDS (${parsed.data.HEARTBEAT_SECONDS}), or every running run looks dead; a few heartbeats' worth is usual`);
  }
  if (!parsed.success || problems.length) {
    throw new ConfigError(`Invalid configuration (fix these environment variables; see README, Configuration):\n${problems.join('\n')}`);
  }
  const projectRoot = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
  const dataDir = path.resolve(projectRoot, parsed.data.OUTPORT_DATA_DIR);
  const localFilesRoot = path.resolve(projectRoot, parsed.data.OUTPORT_LOCAL_FILES_ROOT ?? path.join(dataDir, 'exports'));
  return { ...parsed.data, projectRoot, OUTPORT_DATA_DIR: dataDir, OUTPORT_LOCAL_FILES_ROOT: localFilesRoot };
}

/**
 * Variables not read as settings: the test suite's and the embedded ClickHouse child's own (set by Outport itself),
 * so they are never reported as misspellings.
 */
const NOT_SETTINGS = /^OUTPORT_(TEST_|SKIP_|CH_|CHROMIUM_PATH$)/;

/** Settings this short are one or two edits from common variables (HOME is two from HOST): only one edit counts. */
const SHORT_NAME = 5;

export interface SuspiciousVariable {
  name: string;
  /** The setting it probably meant, when one is close. */
  meant?: string;
}

/**
 * Environment variables that look like Outport settings but are not one (`OUTPORT_SECRETKEY`, `WORKER_CONCURENCY`):
 * a misspelled setting is silently ignored otherwise, and the default it falls back to may be the wrong one.
 */
export function suspiciousVariables(env: NodeJS.ProcessEnv = process.env): SuspiciousVariable[] {
  const known = Object.keys(ConfigSchema.shape);
  const found: SuspiciousVariable[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.includes(name) || NOT_SETTINGS.test(name)) continue;
    const upper = name.toUpperCase();
    let meant: string | undefined;
    let best = Infinity;
    for (const k of known) {
      const limit = k.length <= SHORT_NAME ? 1 : 2;
      const d = editDistance(upper, k, limit);
      if (d <= limit && d < best) [best, meant] = [d, k];
    }
    if (meant || /^(OUTPORT_|CLICKHOUSE_)/.test(upper)) found.push({ name, meant });
  }
  return found;
}

/** Levenshtein distance, stopping early once it exceeds `limit` (returns limit + 1 then). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length];
}
