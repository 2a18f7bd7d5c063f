/**
 * Prometheus metrics of one process, served on `/metrics` by every role (the api on PORT, other roles on
 * HEALTH_PORT). Counters and histograms count what this process did (finished runs, rows, errors, API requests);
 * the store-wide gauges (active runs by status, queue depth, oldest pending run) are read from the metadata store
 * when scraped, with one query, so any single process answers them for the whole installation.
 *
 * Names follow Prometheus conventions: `outport_` prefix, base units (seconds, bytes), `_total` on counters.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Logger } from './logger';
import { EXECUTE_RUN_TASK } from './worker/run-queue';

/** Where an attempt's failure came from, for `outport_errors_total{kind}`. */
export type ErrorSource = 'source' | 'destination' | 'store' | 'config';

/** What the worker reports about one finished attempt. */
export interface AttemptOutcome {
  status: string;
  destinationType: string;
  final: boolean;
  /** The run's first attempt start and the interval end, for duration and lag. */
  startedAt: Date | null;
  intervalEnd: Date;
  rows: number;
  bytes: number;
  errorSource?: ErrorSource;
}

/** Operation names are client-chosen: past this many distinct ones, the rest are counted as `(other)`. */
const MAX_OPERATION_NAMES = 200;
/** The store-wide gauges are read at most this often, however many scrapers ask. */
const STORE_SNAPSHOT_MS = 1_000;
const ACTIVE_STATUSES = ['Starting', 'Running', 'FailedRetryable'] as const;

export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  private readonly runsFinished = new Counter({
    name: 'outport_runs_finished_total',
    help: 'Runs that reached a final status in this process, by status and destination type.',
    labelNames: ['status', 'destination_type'] as const,
    registers: [this.registry],
  });
  private readonly rows = new Counter({
    name: 'outport_rows_exported_total',
    help: 'Rows landed in destinations by completed runs of this process.',
    labelNames: ['destination_type'] as const,
    registers: [this.registry],
  });
  private readonly bytes = new Counter({
    name: 'outport_bytes_exported_total',
    help: 'Bytes written to destinations by completed runs of this process.',
    labelNames: ['destination_type'] as const,
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'outport_run_retries_total',
    help: 'Attempts that failed with a retryable error and were scheduled again.',
    labelNames: ['destination_type'] as const,
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'outport_errors_total',
    help: 'Failed attempts by where the failure came from: source (ClickHouse), destination, store (metadata Postgres) or config (a destination or export setting to fix).',
    labelNames: ['kind', 'destination_type'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'outport_run_duration_seconds',
    help: 'From the first attempt start to the final status, by status and destination type.',
    labelNames: ['status', 'destination_type'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600],
    registers: [this.registry],
  });
  private readonly lag = new Histogram({
    name: 'outport_run_lag_seconds',
    help: 'How long after its interval closed a run completed (finished_at - interval_end): data freshness in the destination.',
    labelNames: ['destination_type'] as const,
    buckets: [30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400, 604800],
    registers: [this.registry],
  });
  private readonly api = new Histogram({
    name: 'outport_api_request_duration_seconds',
    help: 'GraphQL requests over HTTP by operation name and type, and whether the response carried errors.',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly operationNames = new Set<string>();
  private readonly destinationTypes = new Map<string, string>();
  private snapshot?: { at: number; value: Promise<StoreSnapshot | undefined> };

  constructor(private readonly ds?: DataSource, opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'outport_' });
    if (!ds) return;
    const read = () => this.storeSnapshot();
    new Gauge({
      name: 'outport_runs_active',
      help: 'Runs not finished yet, by status, in the whole installation (read from the metadata store on scrape).',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const s = await read();
        if (s) for (const status of ACTIVE_STATUSES) this.set({ status }, s.active[status] ?? 0);
      },
    });
    new Gauge({
      name: 'outport_queue_jobs',
      help: 'Run jobs in the queue (graphile_worker.jobs): ready = due and not locked, waiting = scheduled later (retries, backoff), running = locked by a worker.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const s = await read();
        if (s) for (const [state, n] of Object.entries(s.jobs)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'outport_oldest_pending_run_age_seconds',
      help: 'Age of the oldest run waiting to start (status Starting), 0 when none: grows without bound when no worker takes runs.',
      registers: [this.registry],
      async collect() {
        const s = await read();
        if (s) this.set(s.oldestPendingSeconds);
      },
    });
    new Gauge({
      name: 'outport_metadata_store_up',
      help: '1 when the last scrape could read the metadata store, else 0 (the store-wide gauges then keep their last values).',
      registers: [this.registry],
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
  }

  /** The text exposition of every metric (what `/metrics` answers). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  recordAttempt(o: AttemptOutcome): void {
    const destination_type = o.destinationType;
    if (o.errorSource) this.errors.inc({ kind: o.errorSource, destination_type });
    if (!o.final) {
      if (o.status === 'FailedRetryable') this.retries.inc({ destination_type });
      return;
    }
    const now = Date.now();
    this.runsFinished.inc({ status: o.status, destination_type });
    if (o.startedAt) this.duration.observe({ status: o.status, destination_type }, Math.max(0, now - o.startedAt.getTime()) / 1000);
    if (o.status === 'Completed') {
      this.rows.inc({ destination_type }, o.rows);
      this.bytes.inc({ destination_type }, o.bytes);
      this.lag.observe({ destination_type }, Math.max(0, now - o.intervalEnd.getTime()) / 1000);
    }
  }

  /** A destination's plugin type, cached: a destination never changes type. `unknown` when it cannot be read. */
  async destinationType(destinationId: string | undefined): Promise<string> {
    if (!destinationId || !this.ds) return 'unknown';
    const known = this.destinationTypes.get(destinationId);
    if (known) return known;
    try {
      const [row] = await this.ds.query(`SELECT type FROM destinations WHERE id = $1`, [destinationId]);
      if (!row) return 'unknown';
      if (this.destinationTypes.size > 10_000) this.destinationTypes.clear();
      this.destinationTypes.set(destinationId, row.type);
      return row.type;
    } catch {
      return 'unknown';
    }
  }

  observeApiRequest(operationName: string | undefined | null, type: string | undefined, hadErrors: boolean, seconds: number): void {
    this.api.observe({ operation: this.operationLabel(operationName), type: type ?? 'unknown', outcome: hadErrors ? 'error' : 'ok' }, seconds);
  }

  /** The label for a client-given operation name: anonymous, a valid GraphQL name, or `(other)` past the cap. */
  operationLabel(name: string | undefined | null): string {
    if (!name) return '(anonymous)';
    if (!/^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(name)) return '(other)';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return '(other)';
    this.operationNames.add(name);
    return name;
  }

  private storeSnapshot(): Promise<StoreSnapshot | undefined> {
    if (this.snapshot && Date.now() - this.snapshot.at < STORE_SNAPSHOT_MS) return this.snapshot.value;
    const value = readStoreSnapshot(this.ds!).catch(() => undefined);
    this.snapshot = { at: Date.now(), value };
    return value;
  }
}

interface StoreSnapshot {
  active: Record<string, number>;
  jobs: { ready: number; waiting: number; running: number };
  oldestPendingSeconds: number;
}

/** One round trip; every part is served by an index (runs_active) or a small table (the job queue). */
async function readStoreSnapshot(ds: DataSource): Promise<StoreSnapshot> {
  const [row] = await ds.query(
    `SELECT
       (SELECT coalesce(json_object_agg(status, n), '{}'::json) FROM
          (SELECT status, count(*)::int AS n FROM runs WHERE status IN ('Starting', 'Running', 'FailedRetryable') GROUP BY status) s) AS active,
       (SELECT json_build_object(
          'ready', count(*) FILTER (WHERE locked_at IS NULL AND run_at <= now()),
          'waiting', count(*) FILTER (WHERE locked_at IS NULL AND run_at > now()),
          'running', count(*) FILTER (WHERE locked_at IS NOT NULL)) FROM graphile_worker.jobs WHERE task_identifier = $1) AS jobs,
       (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM runs WHERE status = 'Starting') AS oldest`,
    [EXECUTE_RUN_TASK],
  );
  return { active: row.active, jobs: row.jobs, oldestPendingSeconds: Number(row.oldest) };
}

/**
 * Apollo plugin: each GraphQL request over HTTP is timed into `outport_api_request_duration_seconds` and logged
 * with its operation name, type, root fields, team, duration and error count.
 */
export function requestMetricsPlugin(metrics: Metrics | undefined, log: Logger): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(ctx) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const body = ctx.response.body;
          const errors = ctx.errors?.length ?? (body.kind === 'single' ? (body.singleResult.errors?.length ?? 0) : 0);
          const type = ctx.operation?.operation;
          const operation = ctx.operationName ?? ctx.request.operationName ?? undefined;
          metrics?.observeApiRequest(operation, type, errors > 0, seconds);
          const fields = ctx.operation?.selectionSet.selections.map((s) => (s.kind === 'Field' ? s.name.value : `...${s.kind}`));
          log.info(
            {
              operation: operation ?? '(anonymous)',
              operationType: type,
              fields,
              team: (ctx.contextValue as { teamId?: number }).teamId,
              durationMs: Math.round(seconds * 1000),
              errors,
            },
            `GraphQL ${type ?? 'request'} ${operation ?? fields?.join(',') ?? '(unparsed)'}`,
          );
        },
      };
    },
  };
}
