/**
 * The idempotent load of one run into its table, whatever produces the COPY text: the row encoder (`copy.ts`) or
 * the COPY text ClickHouse writes on the byte path (`encoded.ts`). A `CopyInput` writes COPY text into the stream it is
 * given and ends it; several inputs are several COPY streams of disjoint slices of the run (for example by a hash
 * of the key), each on its own session, all into one stage and committed as one transaction.
 *
 * events (immutable), measured in bench/pg-load.ts and documented in README.md "How a run lands":
 *   COPY into an UNLOGGED stage; then one READ COMMITTED transaction that takes a transaction advisory lock on the
 *   table, deletes the stored rows whose key is in the stage, and inserts the stage. A run's rows are exactly the
 *   keys it exports, so another export's rows and other intervals' rows are never touched, and no unique key is
 *   needed. The lock serializes the merge step (not the COPY) of runs into one table: without it, two runs that
 *   insert the same key at once would both see it absent and, on a table without a unique key, keep two copies.
 *   Keys first (events on the byte path, when `keys` is given, see write.ts for when): one READ COMMITTED
 *   transaction that takes the same lock, COPYs the run's keys into a temp table (its primary key refuses a key
 *   given twice), deletes the stored rows with those keys, and COPYs the rows straight into the table: no stage, no
 *   second write of every row (0.66-1.15 of a plain COPY against 0.44-0.54, bench/pg-load.ts). The lock is held
 *   for the COPY, so a run finding it held (another run loading into the table: concurrent backfill runs, two
 *   exports) takes the stage load instead of waiting, and runs into one table still COPY side by side. Keys given
 *   twice, or rows that are not the keys given (the data changed between the two queries), roll it all back: the
 *   first falls back to the stage load, the second fails the attempt (retried).
 * persons / sessions (mutable): the version merge of `merge.ts` (`INSERT ... ON CONFLICT DO UPDATE WHERE newer`),
 *   which needs a unique key on the model's key and is safe under concurrency by that key.
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DestinationError, type ModelSchema } from '../../src/sdk';
import { qualified, quoteIdent } from '../../src/sdk/pgwire';
import { columnDefinition } from './ddl';
import { landedSql, mergeSql } from './merge';
import { dropLeftoverStage, dropStage, recreateStage } from './stage';

/** Writes COPY text (text format, the model's columns in order) into `copy` and ends it. */
export type CopyInput = (copy: Writable) => Promise<void>;

export interface LoadRunOptions {
  schema: string;
  table: string;
  /** The run's stage table name (same for every attempt of the run, see stage.ts). */
  stage: string;
  model: ModelSchema;
  /** One COPY stream each, all at once when `openSession` is given, else one after another on `client`. */
  inputs: readonly CopyInput[];
  /** The run's keys as COPY text (the model's key columns): load keys first, with `inputs` a single stream. */
  keys?: CopyInput;
  /** A further session for the second and later inputs; loadRun closes it. */
  openSession?: () => Promise<Client>;
  signal: AbortSignal;
  /** 'copy': stopped through the COPY streams; 'sql': a running statement needs a cancel request. */
  onPhase?(phase: 'copy' | 'sql'): void;
}

export type LoadStrategy = 'keys-first' | 'stage';

export interface LoadResult {
  strategy: LoadStrategy;
  /** Why a run given its keys took the stage load. */
  stageBecause?: string;
  rowsStaged: number;
  /** Rows of the run present in the table at commit (distinct keys). */
  rowsLanded: number;
  /** Stored rows that the run replaced (events: earlier copies of its keys). */
  rowsReplaced: number;
  rowsInsertedOrUpdated: number;
  /** True when a stage left by a killed attempt of this run was dropped first. */
  droppedLeftoverStage: boolean;
  /** Seconds per phase, for the run's debug log and the bench. */
  timings: Record<string, number>;
}

/** Per-table key of the merge lock: the table's oid, so any name spelling (and a rename) maps to one lock. */
const LOCK_KEY = `hashtextextended('outport-load:' || ($1::regclass)::oid::text, 0)`;
const LOCK_SQL = `SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
const TRY_LOCK_SQL = `SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AS locked`;

export async function loadRun(client: Client, o: LoadRunOptions): Promise<LoadResult> {
  const timings: Record<string, number> = {};
  const time = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = (timings[name] ?? 0) + (performance.now() - t0) / 1000;
    }
  };
  const finalName = qualified(o.schema, o.table);
  const stageName = qualified(o.schema, o.stage);
  let stageBecause: string | undefined;
  let droppedBefore = false;
  if (o.keys && !o.model.mutable && o.inputs.length === 1) {
    // A stage left by a killed attempt of this run that took the stage load.
    droppedBefore = await dropLeftoverStage(client, o.schema, o.stage);
    const loaded = await loadKeysFirst(client, o, time);
    if (typeof loaded !== 'string') return { ...loaded, droppedLeftoverStage: droppedBefore, timings };
    stageBecause = loaded;
  }
  const droppedLeftoverStage = (await recreateStage(client, o.schema, o.stage, o.model)) || droppedBefore;
  o.signal.throwIfAborted();

  o.onPhase?.('copy');
  const rowsStaged = await time('copy', () => copyAll(client, stageName, o));
  o.signal.throwIfAborted();

  o.onPhase?.('sql');
  // A fresh stage has no statistics: the planner would guess 200 distinct keys and pick plans that crawl on
  // millions of rows. ANALYZE samples a bounded number of rows; only the columns the merge plans on (statistics
  // of ~1 KB JSONB columns cost most of a full ANALYZE and no plan uses them).
  const key = o.model.key.map(quoteIdent).join(', ');
  const planned = [...o.model.key, ...o.model.versionColumns].map(quoteIdent).join(', ');
  await time('analyze', () => client.query(`ANALYZE ${stageName} (${planned})`));
  const cols = o.model.columns.map((c) => quoteIdent(c.name)).join(', ');

  // READ COMMITTED explicitly (a database default of SERIALIZABLE would fail merges that the lock already orders):
  // each statement after the lock sees every run committed before it.
  await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
  let rowsLanded: number;
  let rowsReplaced = 0;
  let rowsInsertedOrUpdated: number;
  if (!o.model.mutable) {
    // Keys repeated inside the run (the source deduplicates, a third-party caller may not) would be inserted twice
    // into a table without a unique key: count first, and only then pay for a sort.
    const distinct = await time('distinct', () => count(client, `SELECT count(*)::text AS n FROM (SELECT DISTINCT ${key} FROM ${stageName}) k`));
    await time('lock', () => client.query(LOCK_SQL, [finalName]));
    const match = o.model.key.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' AND ');
    const deleted = await time('delete', () => client.query(`DELETE FROM ${finalName} t USING ${stageName} s WHERE ${match}`));
    rowsReplaced = deleted.rowCount ?? 0;
    const select = distinct < rowsStaged ? `SELECT DISTINCT ON (${key}) ${cols} FROM ${stageName} ORDER BY ${key}` : `SELECT ${cols} FROM ${stageName}`;
    const inserted = await time('insert', () => client.query(`INSERT INTO ${finalName} (${cols}) ${select}`));
    rowsInsertedOrUpdated = inserted.rowCount ?? 0;
    // Under the lock every stored copy of the run's keys was deleted and one row per key inserted.
    rowsLanded = rowsInsertedOrUpdated;
  } else {
    const merged = await time('merge', () => client.query(mergeSql(finalName, stageName, o.model)));
    rowsInsertedOrUpdated = merged.rowCount ?? 0;
    rowsLanded = await time('count', () => count(client, landedSql(finalName, stageName, o.model)));
  }
  await dropStage(client, o.schema, o.stage);
  o.signal.throwIfAborted();
  await time('commit', () => client.query('COMMIT'));
  return { strategy: 'stage', stageBecause, rowsStaged, rowsLanded, rowsReplaced, rowsInsertedOrUpdated, droppedLeftoverStage, timings };
}

const UNIQUE_VIOLATION = '23505';

/** See the header. Why not (all rolled back, nothing sent yet) when the stage load must do it. */
async function loadKeysFirst(
  client: Client,
  o: LoadRunOptions,
  time: <T>(name: string, fn: () => Promise<T>) => Promise<T>,
): Promise<Omit<LoadResult, 'timings' | 'droppedLeftoverStage'> | string> {
  const finalName = qualified(o.schema, o.table);
  const keyColumns = o.model.key.map((k) => o.model.columns.find((c) => c.name === k)!);
  const keysName = quoteIdent('_outport_keys');
  o.onPhase?.('sql');
  await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
  const { rows } = await time('lock', () => client.query<{ locked: boolean }>(TRY_LOCK_SQL, [finalName]));
  if (!rows[0].locked) {
    await client.query('ROLLBACK');
    return 'another run is loading into the table';
  }
  const key = o.model.key.map(quoteIdent).join(', ');
  await client.query(`CREATE TEMP TABLE ${keysName} (${keyColumns.map((c) => columnDefinition(c, false)).join(', ')}, PRIMARY KEY (${key})) ON COMMIT DROP`);
  o.signal.throwIfAborted();
  o.onPhase?.('copy');
  let keys: number;
  try {
    keys = await time('keys', () => copyAll(client, keysName, { ...o, inputs: [o.keys!] }, o.model.key));
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION || o.signal.aborted) throw err;
    await client.query('ROLLBACK');
    return 'the run gave a key twice';
  }
  o.onPhase?.('sql');
  await time('analyze', () => client.query(`ANALYZE ${keysName}`));
  const match = o.model.key.map((k) => `t.${quoteIdent(k)} = k.${quoteIdent(k)}`).join(' AND ');
  const deleted = await time('delete', () => client.query(`DELETE FROM ${finalName} t USING ${keysName} k WHERE ${match}`));
  o.signal.throwIfAborted();
  o.onPhase?.('copy');
  const copied = await time('copy', () => copyAll(client, finalName, o));
  if (copied !== keys) {
    throw new DestinationError(
      'retryable',
      `ClickHouse gave ${keys} keys but ${copied} rows for this run (the data changed between the two queries); nothing was committed, retrying.`,
      { code: 'KEYS_ROWS_MISMATCH' },
    );
  }
  o.onPhase?.('sql');
  o.signal.throwIfAborted();
  await time('commit', () => client.query('COMMIT'));
  // Under the lock every stored copy of the run's keys was deleted and each key copied once.
  return { strategy: 'keys-first', rowsStaged: copied, rowsLanded: copied, rowsReplaced: deleted.rowCount ?? 0, rowsInsertedOrUpdated: copied };
}

async function count(client: Client, sql: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(sql);
  return Number(rows[0].n);
}

/** Runs every input into the stage; returns the rows COPY reported. Any failure or abort stops every stream. */
async function copyAll(client: Client, target: string, o: LoadRunOptions, columns: readonly string[] = o.model.columns.map((c) => c.name)): Promise<number> {
  const statement = `COPY ${target} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`;
  const copies: Writable[] = [];
  const stopAll = (reason: unknown) => {
    for (const c of copies) if (!c.destroyed) c.destroy(reason instanceof Error ? reason : new Error(String(reason)));
  };
  const onAbort = () => stopAll(o.signal.reason);
  o.signal.addEventListener('abort', onAbort, { once: true });
  const one = async (session: Client, input: CopyInput): Promise<number> => {
    const copy = session.query(copyFrom(statement));
    copies.push(copy);
    if (o.signal.aborted) onAbort();
    await Promise.all([
      input(copy).catch((err) => {
        if (!copy.destroyed) copy.destroy(err);
        throw err;
      }),
      finished(copy),
    ]);
    return copy.rowCount;
  };
  const extra: Client[] = [];
  try {
    let counts: number[];
    if (o.openSession && o.inputs.length > 1) {
      // The first failure stops every stream, but loadRun returns only once all of them have settled: a stream
      // still finishing its COPY after loadRun gave up could put its rows into the stage of the next attempt.
      const settled = await Promise.allSettled(
        o.inputs.map(async (input, i) => {
          try {
            if (i === 0) return await one(client, input);
            const session = await o.openSession!();
            extra.push(session);
            return await one(session, input);
          } catch (err) {
            stopAll(err);
            throw err;
          }
        }),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      counts = settled.map((r) => (r as PromiseFulfilledResult<number>).value);
    } else {
      counts = [];
      for (const input of o.inputs) counts.push(await one(client, input));
    }
    return counts.reduce((a, b) => a + b, 0);
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    await Promise.all(extra.map((s) => s.end().catch(() => undefined)));
  }
}
