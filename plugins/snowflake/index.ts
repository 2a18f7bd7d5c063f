/**
 * Snowflake destination. A run becomes gzip JSON Lines part files in a temp directory, each PUT to the table stage
 * of a per-run staging table (the driver's PUT copies a local file) and deleted, COPYed into the staging table, then
 * one statement merges into the destination table (events: insert absent keys; persons/sessions: merge by key with
 * the version condition). Stage files and the staging table are removed whatever happens, so a retried run replaces
 * nothing and adds nothing twice.
 *
 * Two ways to make the part files, the same values either way:
 * - byte path (`writeEncoded`, wire format `snowflake-jsonl`, the default for whole models): ClickHouse writes and
 *   gzips the lines (src/source/wire/snowflake.ts), Node streams them to the part file. A run of more than
 *   MAX_PART_ROWS is read in equal key-hash slices, one part each; each part is COPYed as soon as it is PUT, while
 *   ClickHouse writes the next. The value rules run in SQL; the host counts their replacements.
 * - row path (`write`: custom queries, field selections, OUTPORT_DATA_PATH=rows): Node encodes the rows
 *   (parts.ts) under the value rules of values.ts; one COPY loads every part at the end.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  connectionStep, defineDestination, describeAppliedPlan, DestinationError, KEY_SLICES, planSchemaChange, schemaChangeError,
  type Column, type EncodedRun, type KeySlice, type RecordBatch, type Replacement, type RunContext, type WireFormat, type WriteResult,
} from '../../src/sdk';
import { snowflakeConfigSchema, tableFor, type SnowflakeConfig } from './config';
import { SnowflakeSession } from './connection';
import { classifySnowflakeError } from './errors';
import { qualified, quoteIdent, resolveName } from './identifiers';
import { PartWriter } from './parts';
import * as sql from './sql';
import { SnowflakeValueRules } from './values';

/** Uncompressed bytes per staged file: Snowflake loads best from files of 100-250 MB compressed. */
export const MAX_PART_BYTES = 256 * 1024 * 1024;

/**
 * Rows per staged file on the byte path, which knows a run's rows (not its bytes) before reading it: ~150 MB of
 * gzip at the ~75 bytes a row measured for PostHog events with ~1 KB of properties, inside the 100-250 MB compressed
 * Snowflake loads best from. Each further part costs ClickHouse another pass over the run's source rows (a key
 * slice), so a run is split only when it is this large.
 */
export const MAX_PART_ROWS = 2_000_000;

/** The byte path's format: the files the row path stages, written by ClickHouse. */
export const SNOWFLAKE_WIRE_FORMAT: WireFormat = { format: 'snowflake-jsonl', compression: 'gzip' };

/** Long enough for a big backfill interval, short enough that a stuck COPY/MERGE is retried the same day. */
export function statementTimeoutSeconds(interval: { start: Date; end: Date }): number {
  const seconds = (interval.end.getTime() - interval.start.getTime()) / 1000;
  return Math.min(6 * 3600, Math.max(600, Math.ceil(seconds * 2)));
}

/** Deterministic per run (a retry replaces what a crashed attempt left), short, and a plain identifier. */
export function stageTableName(ctx: Pick<RunContext, 'runId' | 'model'>): string {
  return `OUTPORT_STAGE_${ctx.model.toUpperCase()}_${createHash('sha256').update(ctx.runId).digest('hex').slice(0, 16).toUpperCase()}`;
}

/** Hands one finished part file over to be staged (PUT), with the rows and bytes it holds. */
type StagePart = (file: string, rows: number, bytes: number) => Promise<void>;

interface LoadOptions {
  /**
   * COPY each part into the staging table as soon as it is PUT (under its own stage path), while the caller makes the
   * next part; otherwise one COPY loads every part at the end. Either way the MERGE is the one step that changes the
   * destination table.
   */
  copyEachPart?: boolean;
  /** The run's rows hold each key once (see `sql.merge`). */
  keysUnique?: boolean;
}

/**
 * Everything of a run around its part files: session, target table, staging table, PUT (and COPY) of each part
 * `fillParts` makes in `tmp`, MERGE, the landed count, and the clean-up whatever happens.
 */
async function loadRun(
  config: SnowflakeConfig,
  ctx: RunContext,
  options: LoadOptions,
  fillParts: (tmp: string, stagePart: StagePart) => Promise<Replacement[] | undefined>,
): Promise<WriteResult> {
  const target = qualified(config.database, config.schema, tableFor(config, ctx.model));
  const stageName = stageTableName(ctx);
  const stage = qualified(config.database, config.schema, quoteIdent(stageName));
  const namespace = [config.database, config.schema].map((n) => quoteIdent(resolveName(n))).join('.');
  const stageLocation = `${namespace}.%${quoteIdent(stageName)}/attempt-${ctx.attempt}/`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-snowflake-'));
  const session = await SnowflakeSession.open(config, ctx.signal);
  let stageCreated = false;
  // The COPY of the previous part, running while the next part is made (copyEachPart).
  let copying: Promise<void> = Promise.resolve();
  try {
    await session.query(sql.statementTimeout(statementTimeoutSeconds(ctx.interval)), ctx.signal);
    await ensureTarget(session, target, ctx);
    await session.query(sql.createStage(stage, ctx.schema), ctx.signal);
    stageCreated = true;

    let rowsStaged = 0;
    let bytesWritten = 0;
    let rowsLoaded = 0;
    let filesLoaded = 0;
    const copyFrom = async (location: string) => {
      const loaded = await session.query(sql.copy(stage, location), ctx.signal);
      rowsLoaded += loaded.reduce((n, r) => n + Number(r.rows_loaded ?? r.ROWS_LOADED ?? 0), 0);
      filesLoaded += loaded.length;
    };
    let parts = 0;
    const started = Date.now();
    const replacements = await fillParts(tmp, async (file, rows, bytes) => {
      await copying;
      const location = options.copyEachPart ? `${stageLocation}part-${String(++parts).padStart(5, '0')}/` : stageLocation;
      await session.query(sql.put(file, location), ctx.signal);
      rowsStaged += rows;
      bytesWritten += bytes;
      ctx.progress({ rows, bytes });
      if (options.copyEachPart) {
        copying = copyFrom(location);
        copying.catch(() => undefined);
      }
    });
    await copying;
    if (rowsStaged === 0) return { rowsLanded: 0, bytesWritten: 0, details: { table: target } };
    if (!options.copyEachPart) await copyFrom(stageLocation);
    if (rowsLoaded !== rowsStaged) {
      throw new DestinationError('retryable', `COPY INTO loaded ${rowsLoaded} rows but ${rowsStaged} were staged (files: ${filesLoaded})`);
    }
    const loadedAt = Date.now();
    await session.query(sql.merge(target, stage, ctx.schema, { keysUnique: options.keysUnique }), ctx.signal);
    const mergedAt = Date.now();
    const [landed] = await session.query(sql.countLanded(target, stage, ctx.schema), ctx.signal);
    // Where a run's time goes, in its log: staging (make, PUT and COPY the parts), the MERGE, the landed count.
    const seconds = { stage: (loadedAt - started) / 1000, merge: (mergedAt - loadedAt) / 1000, count: (Date.now() - mergedAt) / 1000 };
    return {
      rowsLanded: Number(landed?.LANDED ?? 0),
      bytesWritten,
      details: { table: target, stagedFiles: filesLoaded, rowsStaged, seconds },
      ...(replacements ? { replacements } : {}),
    };
  } finally {
    // A COPY still running (the run failed meanwhile) must end before the session is used for the clean-up.
    await copying.catch(() => undefined);
    await cleanup(session, ctx, stageCreated ? [sql.removeStage(stageLocation)] : [], sql.dropTable(stage));
    await session.close().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Row path: Node encodes the rows under the value rules of values.ts. */
function write(config: SnowflakeConfig, ctx: RunContext, batches: AsyncIterable<RecordBatch>, maxPartBytes: number): Promise<WriteResult> {
  return loadRun(config, ctx, {}, async (tmp, stagePart) => {
    const rules = new SnowflakeValueRules(ctx.schema);
    const parts = new PartWriter(tmp, maxPartBytes, (part) => stagePart(part.file, part.rows, part.bytes));
    try {
      for await (const batch of batches) {
        ctx.signal.throwIfAborted();
        for (const row of batch.rows) await parts.write(rules.row(row));
      }
      await parts.finish();
    } finally {
      parts.abort();
    }
    return rules.replacements.list();
  });
}

/**
 * Byte path: ClickHouse writes the part files' bytes; each is streamed to a temp file (the driver PUTs files), PUT,
 * and COPYed into the staging table while ClickHouse writes the next one; a part file is deleted once PUT, so at
 * most two are on disk and none in memory. Whole-model queries hold each key once, so events merge without the
 * per-key reduction. The host counts the value rules' replacements (the same rules, in SQL) and adds them to the run.
 */
function writeEncoded(config: SnowflakeConfig, ctx: RunContext, run: EncodedRun, maxPartRows: number): Promise<WriteResult> {
  return loadRun(config, ctx, { copyEachPart: true, keysUnique: true }, async (tmp, stagePart) => {
    const slices = partSlices(ctx.expectedRows, maxPartRows);
    // A sliced gzip stream takes its rows from the run's exact counts (one aggregate): start it beside the first part.
    if (slices.length > 1) run.stats().catch(() => undefined);
    for (const [i, slice] of slices.entries()) {
      ctx.signal.throwIfAborted();
      const file = path.join(tmp, `part-${String(i + 1).padStart(5, '0')}.jsonl.gz`);
      try {
        const part = await run.open(slice);
        await pipeline(Readable.from(part.chunks), fs.createWriteStream(file));
        const { rows, bytes } = await part.finished();
        if (rows > 0) await stagePart(file, rows, bytes);
      } finally {
        fs.rmSync(file, { force: true });
      }
    }
    return undefined;
  });
}

/**
 * The key slices a run is read in, one part each: the whole run while the host's count fits one part, else
 * `ceil(rows / rowsPerPart)` equal ranges of the key's hash (uniform, so each holds about `rowsPerPart` rows).
 */
export function partSlices(expectedRows: number | undefined, rowsPerPart: number): (KeySlice | undefined)[] {
  if (expectedRows === undefined || expectedRows <= rowsPerPart) return [undefined];
  const n = Math.min(KEY_SLICES, Math.ceil(expectedRows / rowsPerPart));
  return Array.from({ length: n }, (_, i) => ({ from: Math.floor((i * KEY_SLICES) / n), to: Math.floor(((i + 1) * KEY_SLICES) / n) }));
}

/**
 * A Snowflake type as the kind of values it holds: synonyms and lengths folded (`TEXT`, `VARCHAR(16777216)` ->
 * VARCHAR), integers as NUMBER(p,0) wide enough for every JS safe integer.
 */
export function snowflakeTypeKind(type: string): string {
  const t = type.trim().toUpperCase();
  const number = /^(?:NUMBER|DECIMAL|NUMERIC)\((\d+),\s*(\d+)\)$/.exec(t);
  if (number) return Number(number[2]) === 0 && Number(number[1]) >= 16 ? 'INTEGER' : `NUMBER(${number[1]},${number[2]})`;
  if (/^(?:INT|INTEGER|BIGINT)$/.test(t)) return 'INTEGER';
  if (/^(?:VARCHAR|TEXT|STRING|CHAR VARYING)(?:\(16777216\)|\(134217728\))?$/.test(t)) return 'VARCHAR';
  if (/^(?:FLOAT|FLOAT4|FLOAT8|DOUBLE|DOUBLE PRECISION|REAL)$/.test(t)) return 'FLOAT';
  if (/^TIMESTAMP_TZ(?:\(\d\))?$/.test(t)) return 'TIMESTAMP_TZ';
  return t;
}

const KIND_OF: Record<Column['type'], string> = { string: 'VARCHAR', int: 'INTEGER', float: 'FLOAT', bool: 'BOOLEAN', timestamp: 'TIMESTAMP_TZ', json: 'VARIANT' };
/** Integers are JS safe integers: a FLOAT holds them exactly. */
const WIDER_KINDS: Partial<Record<Column['type'], string[]>> = { int: ['FLOAT'] };

/** Creates the target table, or checks and evolves the one that exists (src/sdk/schema-evolution.ts). */
async function ensureTarget(session: SnowflakeSession, target: string, ctx: RunContext): Promise<void> {
  let described: Record<string, unknown>[];
  try {
    described = await session.query(sql.describeTable(target), ctx.signal);
  } catch (err) {
    if (classifySnowflakeError(err).code !== 'SNOWFLAKE_002003') throw err;
    await session.query(sql.createTarget(target, ctx.schema), ctx.signal);
    return;
  }
  const existing = described.map((r) => ({ name: String(r.name), type: String(r.type), required: r['null?'] === 'N' && r.default == null }));
  const plan = planSchemaChange(ctx.schema, existing, {
    same: (type, c) => snowflakeTypeKind(type) === KIND_OF[c.type],
    accepts: (type, c) => [KIND_OF[c.type], ...(WIDER_KINDS[c.type] ?? [])].includes(snowflakeTypeKind(type)),
    caseInsensitive: true,
  });
  const refused = schemaChangeError(plan, {
    mode: ctx.schemaMode,
    table: target,
    typeName: (c) => sql.targetType(c),
    addStatement: (cs) => cs.map((c) => `${sql.addColumn(target, c)};`).join(' '),
    relaxStatement: (cs) => cs.map((c) => `${sql.dropNotNull(target, c.name)};`).join(' '),
  }, ctx.schema);
  if (refused) throw refused;
  for (const c of plan.add) await session.query(sql.addColumn(target, c), ctx.signal);
  for (const c of plan.relax) await session.query(sql.dropNotNull(target, c.name), ctx.signal);
  const evolved = describeAppliedPlan(plan, target);
  if (evolved) ctx.logger.info(evolved);
}

/** Best effort and never under the run's signal: an aborted run must still clean up. */
async function cleanup(session: SnowflakeSession, ctx: RunContext, statements: string[], drop: string): Promise<void> {
  for (const statement of [...statements, drop]) {
    try {
      await session.query(statement);
    } catch (err) {
      ctx.logger.warn('Snowflake clean-up statement failed; the next attempt of this run replaces what is left', {
        statement,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

export interface SnowflakeDestinationOptions {
  /** Uncompressed bytes per staged file on the row path. Default: MAX_PART_BYTES. */
  maxPartBytes?: number;
  /** Rows per staged file on the byte path. Default: MAX_PART_ROWS. */
  maxPartRows?: number;
}

/** The plugin, with tunables for tests; the default export uses the defaults. */
export function createSnowflakeDestination(options: SnowflakeDestinationOptions = {}) {
  const maxPartBytes = options.maxPartBytes ?? MAX_PART_BYTES;
  const maxPartRows = options.maxPartRows ?? MAX_PART_ROWS;
  return defineDestination<SnowflakeConfig>({
    id: 'snowflake',
    displayName: 'Snowflake',
    description: 'Loads each run through a table stage (gzip JSON Lines) and merges it into a Snowflake table, exactly once.',
    configSchema: snowflakeConfigSchema,
    secretFields: ['password', 'private_key', 'private_key_passphrase'],
    models: ['events', 'persons', 'sessions'],
    capabilities: { merge: true, wireFormats: ['snowflake-jsonl'], suggestedConcurrency: 2 },
    async testConnection(config, ctx) {
      let session: SnowflakeSession | undefined;
      try {
        const classified = <T>(fn: () => Promise<T>) => fn().catch((err) => Promise.reject(classifySnowflakeError(err)));
        const opened = (session = await connectionStep(ctx, 'authenticate', () => classified(() => SnowflakeSession.open(config, ctx.signal)), `Signed in to account ${config.account} as ${config.user}.`));
        await connectionStep(ctx, 'permissions', () => classified(async () => {
          const [row] = await opened.query('SELECT CURRENT_WAREHOUSE()', ctx.signal);
          if (!row || Object.values(row)[0] == null) {
            throw new DestinationError('config', `Warehouse ${config.warehouse} does not exist or the role cannot use it: check \`warehouse\` and \`role\`.`, {
              code: 'WAREHOUSE_MISSING',
            });
          }
          const namespace = [config.database, config.schema].map((n) => quoteIdent(resolveName(n))).join('.');
          await opened.query(`DESCRIBE SCHEMA ${namespace}`, ctx.signal);
        }), `The role can use warehouse ${config.warehouse} and schema ${config.database}.${config.schema}.`);
      } catch (err) {
        throw classifySnowflakeError(err);
      } finally {
        await session?.close().catch(() => undefined);
      }
    },
    async write(config, ctx, batches) {
      try {
        return await write(config, ctx, batches, maxPartBytes);
      } catch (err) {
        throw classifySnowflakeError(err);
      }
    },
    wireFormat: () => SNOWFLAKE_WIRE_FORMAT,
    async writeEncoded(config, ctx, run) {
      try {
        return await writeEncoded(config, ctx, run, maxPartRows);
      } catch (err) {
        throw classifySnowflakeError(err);
      }
    },
    classifyError: classifySnowflakeError,
  });
}

export default createSnowflakeDestination();
