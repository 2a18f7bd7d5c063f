import { Readable } from 'node:stream';
import { BigQuery } from '@google-cloud/bigquery';
import type { Dataset, Table } from '@google-cloud/bigquery';
import { DestinationError } from '../../src/sdk';
import { ServiceAccountTokens } from './auth';
import { parseServiceAccountKey } from './config';
import type { BigQueryConfig } from './config';
import { bigQueryReasons } from './errors';
import type { BigQueryField } from './schema';

/**
 * Deadlines per operation. The SDK's own `timeout` option is ignored by its HTTP layer (teeny-request on
 * node-fetch 3 has no timeout), so a stalled connection would hang the run: each call races a deadline and the
 * run's AbortSignal instead.
 */
export const DEADLINES_MS = { metadata: 120_000, load: 30 * 60_000, query: 6 * 60 * 60_000 };

/** Settles with `work`, or rejects (retryable) when the deadline passes or `signal` aborts first. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  work.catch(() => undefined); // a late failure after the deadline is not an unhandled rejection
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new DestinationError('retryable', `BigQuery ${what} did not answer within ${Math.round(ms / 1000)} s`, { code: 'TIMEOUT' }));
    }, ms);
    const onAbort = () => {
      cleanup();
      reject(new DestinationError('retryable', `BigQuery ${what} aborted: the run was cancelled`, { code: 'ABORTED', cause: signal?.reason }));
    };
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => (cleanup(), resolve(v)),
      (e) => (cleanup(), reject(e)),
    );
  });
}

const isNotFound = (err: unknown) =>
  (err as { code?: number }).code === 404 || bigQueryReasons(err).includes('notFound');

/** A load job being uploaded (see `BigQueryClient.openLoad`). */
export interface LoadJob {
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  abort(reason: Error): void;
}

/** The few BigQuery operations the plugin needs, over the official SDK. */
export class BigQueryClient {
  readonly bq: BigQuery;
  readonly dataset: Dataset;

  constructor(
    readonly config: BigQueryConfig,
    private readonly signal?: AbortSignal,
  ) {
    const key = parseServiceAccountKey(config.credentials_json);
    if (typeof key === 'string') throw new DestinationError('config', key, { code: 'BAD_CREDENTIALS' });
    this.bq = new BigQuery({
      projectId: config.project_id,
      location: config.location,
      apiEndpoint: config.api_endpoint,
      // The SDK accepts any object with getRequestHeaders(); see ServiceAccountTokens for why we bring our own.
      authClient: new ServiceAccountTokens(key, signal) as never,
      // Retries belong to the host: a run is idempotent, and the host's backoff and attempt cap apply to all of it.
      autoRetry: false,
    } as ConstructorParameters<typeof BigQuery>[0]);
    this.dataset = this.bq.dataset(config.dataset_id, { location: config.location });
  }

  /** Fails with a config error naming the dataset when it is missing. */
  async checkDataset(): Promise<void> {
    try {
      await withDeadline(this.dataset.getMetadata(), DEADLINES_MS.metadata, 'datasets.get', this.signal);
    } catch (err) {
      if (isNotFound(err)) {
        throw new DestinationError(
          'config',
          `BigQuery dataset ${this.config.project_id}:${this.config.dataset_id} not found. Create it, or fix ` +
            'dataset_id, project_id and location (Outport does not create datasets).',
          { cause: err, code: 'DATASET_MISSING' },
        );
      }
      throw err;
    }
  }

  /** The table's fields, or undefined when it does not exist. */
  async tableFields(tableId: string): Promise<BigQueryField[] | undefined> {
    try {
      const [meta] = await withDeadline(this.dataset.table(tableId).getMetadata(), DEADLINES_MS.metadata, 'tables.get', this.signal);
      return (meta.schema?.fields ?? []) as BigQueryField[];
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async createTable(
    tableId: string,
    fields: BigQueryField[],
    options: { partitionField?: string; clusterBy?: string[]; expiresInMs?: number } = {},
  ): Promise<'created' | 'exists'> {
    try {
      const created = this.dataset.createTable(tableId, {
        schema: { fields },
        timePartitioning: options.partitionField ? { type: 'DAY', field: options.partitionField } : undefined,
        clustering: options.clusterBy ? { fields: options.clusterBy } : undefined,
        expirationTime: options.expiresInMs ? String(Date.now() + options.expiresInMs) : undefined,
      });
      await withDeadline(created, DEADLINES_MS.metadata, 'tables.insert', this.signal);
      return 'created';
    } catch (err) {
      // Another run created it first.
      if ((err as { code?: number }).code === 409 || bigQueryReasons(err).includes('duplicate')) return 'exists';
      throw err;
    }
  }

  /** Replaces the table's schema (tables.patch): BigQuery itself refuses dropping or retyping a field. */
  async updateFields(tableId: string, fields: BigQueryField[]): Promise<void> {
    await withDeadline(this.dataset.table(tableId).setMetadata({ schema: { fields } }), DEADLINES_MS.metadata, 'tables.patch', this.signal);
  }

  async dropTable(tableId: string): Promise<void> {
    try {
      await withDeadline(this.dataset.table(tableId).delete(), DEADLINES_MS.metadata, 'tables.delete', this.signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** One load job appending newline-delimited JSON to an existing table; resolves when the job is done. */
  async load(table: Table, chunks: Buffer[], signal: AbortSignal): Promise<void> {
    const sink = table.createWriteStream({
      sourceFormat: 'NEWLINE_DELIMITED_JSON',
      writeDisposition: 'WRITE_APPEND',
      createDisposition: 'CREATE_NEVER',
    });
    const onAbort = () => sink.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const done = new Promise<void>((resolve, reject) => {
        sink.on('complete', () => resolve());
        sink.on('error', reject);
        Readable.from(chunks).on('error', reject).pipe(sink);
      });
      await withDeadline(done, DEADLINES_MS.load, 'load job', signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * One load job appending newline-delimited JSON to an existing table, fed as the bytes come: `write` resolves
   * once the upload can take more (back-pressure), `finish` when the job is done. The job exists only once its
   * upload completed, so a job abandoned with `abort` (or a failed write) loads nothing.
   */
  openLoad(table: Table, signal: AbortSignal): LoadJob {
    const sink = table.createWriteStream({
      sourceFormat: 'NEWLINE_DELIMITED_JSON',
      writeDisposition: 'WRITE_APPEND',
      createDisposition: 'CREATE_NEVER',
    });
    const onAbort = () => sink.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const completed = new Promise<void>((resolve, reject) => {
      sink.on('complete', () => resolve());
      sink.on('error', reject);
      // 'complete' comes before 'close' when the job succeeds, 'error' before it when it fails; a close alone would
      // leave a writer waiting for 'drain' until the deadline.
      sink.on('close', () => reject(new DestinationError('retryable', 'The BigQuery load job upload closed before the job completed', { code: 'UPLOAD_CLOSED' })));
    });
    completed.catch(() => undefined); // surfaced by write() or finish()
    const settled = withDeadline(completed, DEADLINES_MS.load, 'load job', signal).finally(() => signal.removeEventListener('abort', onAbort));
    settled.catch(() => undefined);
    return {
      async write(chunk) {
        if (sink.write(chunk)) return;
        await Promise.race([new Promise<void>((resolve) => sink.once('drain', resolve)), settled]);
      },
      async finish() {
        sink.end();
        await settled;
      },
      abort(reason) {
        if (!sink.destroyed) sink.destroy(reason);
        signal.removeEventListener('abort', onAbort);
      },
    };
  }

  /** Runs a GoogleSQL statement as a query job and returns its rows (empty for DML). */
  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const run = async () => {
      const [job] = await this.bq.createQueryJob({ query: sql, useLegacySql: false, location: this.config.location });
      const [rows] = await job.getQueryResults();
      return rows as T[];
    };
    return withDeadline(run(), DEADLINES_MS.query, 'query job', this.signal);
  }
}
