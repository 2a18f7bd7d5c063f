/**
 * The limits of the warehouse stand-ins: each ingests exactly the load its plugin sends on the row path,
 * pre-rendered (untimed) with the plugin's own encoder, into a table shaped like the plugin's staging table (where
 * the plugin's load statements go). Timed: the load alone, so Outport / limit shows what the run adds around it
 * (reading, encoding, the merge into the final table, bookkeeping).
 *
 * - Redshift (insert mode, on Postgres): the plugin's multi-row INSERT statements with bound parameters
 *   (InsertStatementBuilder, values through its ValueRules), held in memory and executed one after another.
 * - BigQuery (the fake, through the real SDK): the plugin's NDJSON (NdjsonEncoder) as one file, loaded by load jobs
 *   of the plugin's chunk size (LOAD_CHUNK_BYTES, cut at line ends; the fake parses a job's rows in memory).
 * - Snowflake (the fake, through snowflake-sdk): the plugin's gzip JSON Lines part files (PartWriter), each PUT to
 *   the staging table's stage, then one COPY INTO.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { Client } from 'pg';
import { MODEL_SCHEMAS } from '../src/sdk';
import { qualified as pgQualified } from '../src/sdk/pgwire';
import type { SourceQuery } from '../src/source';
import { LOAD_CHUNK_BYTES } from '../plugins/bigquery';
import { ServiceAccountTokens } from '../plugins/bigquery/auth';
import { NdjsonEncoder, bigQueryFields } from '../plugins/bigquery/schema';
import { InsertStatementBuilder, type InsertStatement } from '../plugins/redshift/insert-statements';
import { createStageSql, dropTableSql } from '../plugins/redshift/sql';
import { ValueRules } from '../plugins/redshift/values';
import { MAX_PART_BYTES } from '../plugins/snowflake';
import type { SnowflakeConfig } from '../plugins/snowflake/config';
import { connectionOptions } from '../plugins/snowflake/connection';
import { qualified as sfQualified, quoteIdent as sfQuoteIdent, resolveName } from '../plugins/snowflake/identifiers';
import { PartWriter, type Part } from '../plugins/snowflake/parts';
import * as sfSql from '../plugins/snowflake/sql';
import { SnowflakeValueRules } from '../plugins/snowflake/values';
import { BIGQUERY_DATASET, snowflakeConfig, type Warehouses } from './fakes';
import { elapsed, sourceFor, type Measurement } from './limits';
import type { Services } from './services';

/** Rows the Redshift limit renders in memory at most (~1.2 KB each); above it the limit is skipped. */
export const REDSHIFT_LIMIT_MAX_ROWS = 2_000_000;

export async function redshiftLimit(s: Services, q: SourceQuery): Promise<Measurement> {
  const schema = MODEL_SCHEMAS[q.model];
  const table = `limit_redshift_${q.model}`;
  const rules = new ValueRules();
  const builder = new InsertStatementBuilder(pgQualified('public', table), schema.columns, 'varchar');
  const statements: InsertStatement[] = [];
  for await (const batch of sourceFor(s).stream(q, { batchSize: 10_000 })) {
    for (const row of batch.rows) {
      const full = builder.add(schema.columns.map((c) => rules.apply(c, row[c.name])));
      if (full) statements.push(full);
    }
  }
  const last = builder.flush();
  if (last) statements.push(last);
  const client = new Client({ ...s.destination });
  await client.connect();
  try {
    await client.query(dropTableSql('public', table));
    await client.query(createStageSql('public', table, schema, 'varchar'));
    const t0 = process.hrtime.bigint();
    for (const st of statements) await client.query(st.text, st.values);
    const seconds = elapsed(t0);
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${pgQualified('public', table)}`);
    return {
      rows: rows[0].n, seconds, outputBytes: statements.reduce((a, st) => a + st.bytes, 0),
      note: `${statements.length} INSERT statements (the plugin's, up to 16 MB each) into a table with the plugin's staging DDL`,
    };
  } finally {
    await client.query(dropTableSql('public', table)).catch(() => undefined);
    await client.end();
  }
}

export async function bigQueryLimit(s: Services, w: Warehouses, q: SourceQuery, dir: string): Promise<Measurement> {
  const schema = MODEL_SCHEMAS[q.model];
  const file = path.join(dir, `${q.model}.ndjson`);
  fs.mkdirSync(dir, { recursive: true });
  // Load jobs of the plugin's size, cut at line ends: [start, end) byte ranges of the file.
  const chunks: [number, number][] = [];
  const encoder = new NdjsonEncoder(schema, false);
  const out = fs.openSync(file, 'w');
  let offset = 0;
  let chunkStart = 0;
  try {
    for await (const batch of sourceFor(s).stream(q, { batchSize: 10_000 })) {
      let text = '';
      for (const row of batch.rows) text += encoder.line(row);
      const buf = Buffer.from(text, 'utf8');
      fs.writeSync(out, buf);
      offset += buf.length;
      if (offset - chunkStart >= LOAD_CHUNK_BYTES) {
        chunks.push([chunkStart, offset]);
        chunkStart = offset;
      }
    }
  } finally {
    fs.closeSync(out);
  }
  if (offset > chunkStart) chunks.push([chunkStart, offset]);

  const { fake, key } = w.bigquery!;
  const bq = new BigQuery({ projectId: fake.projectId, apiEndpoint: fake.url, authClient: new ServiceAccountTokens(key) as never, autoRetry: false } as ConstructorParameters<typeof BigQuery>[0]);
  const tableId = `limit_${q.model}`;
  const table = bq.dataset(BIGQUERY_DATASET).table(tableId);
  try {
    await bq.dataset(BIGQUERY_DATASET).createTable(tableId, { schema: { fields: bigQueryFields(schema, false) } });
    const t0 = process.hrtime.bigint();
    let rows = 0;
    for (const [start, end] of chunks) {
      rows += await new Promise<number>((resolve, reject) => {
        const sink = table.createWriteStream({ sourceFormat: 'NEWLINE_DELIMITED_JSON', writeDisposition: 'WRITE_APPEND', createDisposition: 'CREATE_NEVER' });
        sink.on('complete', (job: { metadata?: { statistics?: { load?: { outputRows?: string } } } }) => resolve(Number(job.metadata?.statistics?.load?.outputRows ?? 0)));
        sink.on('error', reject);
        fs.createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 }).on('error', reject).pipe(sink);
      });
    }
    const seconds = elapsed(t0);
    return { rows, seconds, outputBytes: offset, note: `${chunks.length} load job(s) of the plugin's NDJSON (up to ${LOAD_CHUNK_BYTES / 2 ** 20} MiB each) through the SDK` };
  } finally {
    await table.delete().catch(() => undefined);
    fs.rmSync(file, { force: true });
  }
}

export async function snowflakeLimit(s: Services, w: Warehouses, q: SourceQuery, dir: string): Promise<Measurement> {
  const schema = MODEL_SCHEMAS[q.model];
  const renderDir = path.join(dir, 'render');
  const keepDir = path.join(dir, 'parts');
  fs.mkdirSync(renderDir, { recursive: true });
  fs.mkdirSync(keepDir, { recursive: true });
  const parts: Part[] = [];
  // PartWriter removes each part after handing it over: keep it by moving it first.
  const writer = new PartWriter(renderDir, MAX_PART_BYTES, async (part) => {
    const kept = path.join(keepDir, path.basename(part.file));
    fs.renameSync(part.file, kept);
    parts.push({ ...part, file: kept });
  });
  const rules = new SnowflakeValueRules(schema);
  try {
    for await (const batch of sourceFor(s).stream(q, { batchSize: 10_000 })) {
      for (const row of batch.rows) await writer.write(rules.row(row));
    }
    await writer.finish();
  } finally {
    writer.abort();
  }

  const config = snowflakeConfig(w, `LIMIT_${q.model.toUpperCase()}`) as unknown as SnowflakeConfig;
  const stageName = `LIMIT_STAGE_${q.model.toUpperCase()}`;
  const stage = sfQualified(config.database, config.schema, sfQuoteIdent(stageName));
  const namespace = [config.database, config.schema].map((n) => sfQuoteIdent(resolveName(n))).join('.');
  const stageLocation = `${namespace}.%${sfQuoteIdent(stageName)}/limit/`;
  const session = await openLongSession(config);
  try {
    await session.query(sfSql.createStage(stage, schema));
    const t0 = process.hrtime.bigint();
    for (const part of parts) await session.query(sfSql.put(part.file, stageLocation));
    const loaded = await session.query(sfSql.copy(stage, stageLocation));
    const seconds = elapsed(t0);
    const rows = loaded.reduce((n, r) => n + Number(r.rows_loaded ?? r.ROWS_LOADED ?? 0), 0);
    return {
      rows, seconds, outputBytes: parts.reduce((a, p) => a + p.bytes, 0),
      note: `PUT of ${parts.length} gzip JSON Lines part file(s) (the plugin's) + COPY INTO a table with the plugin's staging DDL`,
    };
  } finally {
    await session.query(sfSql.dropTable(stage)).catch(() => undefined);
    await session.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A driver session like the plugin's, with a long request timeout: the fake answers a statement only when it is done
 * (Snowflake answers a long one with QUERY_IN_PROGRESS and the driver polls), and the driver would resend a COPY
 * that takes longer than the plugin's 60 s while the first still runs.
 */
async function openLongSession(config: SnowflakeConfig) {
  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sf = require('snowflake-sdk') as typeof import('snowflake-sdk');
  sf.configure({ logLevel: 'OFF', additionalLogToConsole: false });
  const conn = sf.createConnection({ ...connectionOptions(config), timeout: 3_600_000 });
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return {
    query: (sqlText: string) =>
      new Promise<Record<string, unknown>[]>((resolve, reject) =>
        conn.execute({ sqlText, complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as Record<string, unknown>[])) }),
      ),
    close: () => new Promise<void>((resolve) => conn.destroy(() => resolve())),
  };
}
