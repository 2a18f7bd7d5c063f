/**
 * Where and how the ClickHouse source reads. Identifiers (database, tables) are spliced into SQL, so they are
 * checked against a strict pattern here; every VALUE reaches ClickHouse as a query parameter instead.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

const identifier = (setting: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => IDENTIFIER.test(v), {
      message: `${setting} must be a plain identifier matching ^[A-Za-z_][A-Za-z0-9_]*$ (letters, digits, underscore; no quotes, dots or spaces)`,
    });

export const sourceConfigSchema = z.object({
  /** ClickHouse HTTP(S) endpoint, e.g. `http://localhost:8123`. */
  url: z.string().url().describe('ClickHouse HTTP(S) URL'),
  username: z.string().default('default'),
  password: z.string().default('').describe('secret'),
  /** Database holding the PostHog-shaped tables. Default: `default`. */
  database: identifier('database', 'default'),
  tables: z
    .object({
      /** Default: `events`. */
      events: identifier('tables.events', 'events'),
      /** Default: `person`. */
      person: identifier('tables.person', 'person'),
      /** Default: `person_distinct_id2`. */
      personDistinctId: identifier('tables.personDistinctId', 'person_distinct_id2'),
    })
    .prefault({}),
  /** How far before the interval start an event's `timestamp` may lie and still be exported. Default: 7 days. */
  lookbackDays: z.number().int().min(0).max(3650).default(7),
  /** ClickHouse `max_execution_time` (seconds) for export queries. Default: 0 (no limit). */
  maxExecutionTime: z.number().int().min(0).default(0),
  /** ClickHouse `max_memory_usage` (bytes) for export queries. Default: 0 (server default). */
  maxMemoryUsage: z.number().int().min(0).default(0),
  /** Rows per RecordBatch. Default: 10000. */
  batchSize: z.number().int().min(1).max(1_000_000).default(10_000),
  /** HTTP request timeout for one query, in ms. Default: 300000. */
  requestTimeoutMs: z.number().int().min(1000).default(300_000),
});

export type SourceConfig = z.infer<typeof sourceConfigSchema>;
export type SourceConfigInput = z.input<typeof sourceConfigSchema>;

/** Validates a source configuration; the error names every offending setting. */
export function parseSourceConfig(input: unknown): SourceConfig {
  const r = sourceConfigSchema.safeParse(input);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid ClickHouse source configuration: ${issues}`);
  }
  return r.data;
}

/** True for names that may be spliced into SQL as identifiers. */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** A `@clickhouse/client` for the configured server (the caller closes it). */
export function createSourceClient(config: SourceConfig): ClickHouseClient {
  return createClient({
    url: config.url,
    username: config.username,
    password: config.password,
    request_timeout: config.requestTimeoutMs,
    // Failures reach the caller as exceptions and are logged there, structured; the client's own console output
    // would repeat them (and report every cancelled run's aborted request as an ERROR).
    log: { level: ClickHouseLogLevel.OFF },
    clickhouse_settings: {
      // Keeps long exports alive through proxies that drop idle connections.
      send_progress_in_http_headers: 1,
      http_headers_progress_interval_ms: '110000',
      ...(config.maxExecutionTime ? { max_execution_time: config.maxExecutionTime } : {}),
      ...(config.maxMemoryUsage ? { max_memory_usage: String(config.maxMemoryUsage) } : {}),
    },
  });
}
