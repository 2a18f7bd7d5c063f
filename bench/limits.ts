/**
 * The limits Outport is compared with: the same rows (the model's own source query) moved by the shortest path
 * each system offers, on the same servers.
 *
 * - source: the query read through `@clickhouse/client` (raw JSONCompactEachRow stream, rows counted, discarded);
 * - Postgres: the rows pre-rendered (untimed) into a COPY text file with Outport's own encoder, then timed:
 *   `COPY ... FROM STDIN` of that file through pg-copy-streams into a table with the destination table's DDL;
 * - S3: ClickHouse itself writes the query result with `INSERT INTO FUNCTION s3(...)` (Parquet zstd, JSONEachRow
 *   gzip) to the same s3rver: no Node in the data path at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { MODEL_SCHEMAS, type Model } from '../src/sdk';
import { quoteIdent } from '../src/sdk/pgwire';
import { ClickHouseSource, parseSourceConfig, type SourceQuery } from '../src/source';
import { encodedSelect } from '../src/source/encoded';
import type { WireFormat } from '../src/sdk';
import { encodeRow } from '../plugins/postgres/copy';
import { createTableSql } from '../plugins/postgres/ddl';
import { Sanitizer } from '../plugins/postgres/sanitize';
import { CH_DATABASE, S3_BUCKET, type Services } from './services';

export interface Measurement {
  rows: number;
  seconds: number;
  /** Bytes of the rows as the source sends them (JSONCompactEachRow text): the same yardstick for every line. */
  sourceBytes?: number;
  /** Bytes that landed (file, object, COPY stream). */
  outputBytes?: number;
  /** Source read: seconds until the first byte (ClickHouse sorts and deduplicates before it streams). */
  firstByteSeconds?: number;
  note?: string;
}

export function sourceFor(s: Services): ClickHouseSource {
  return new ClickHouseSource(s.ch, parseSourceConfig({ url: s.clickhouseUrl, database: CH_DATABASE }));
}

export function queryFor(model: Model, interval: { start: Date; end: Date }, teamId: number): SourceQuery {
  return { teamId, model, interval };
}

/** The model's query, rows streamed raw and discarded. */
export async function sourceLimit(s: Services, q: SourceQuery): Promise<Measurement> {
  const { sql, params, settings } = sourceFor(s).build(q, 'rows');
  const t0 = process.hrtime.bigint();
  const res = await s.ch.exec({ query: `${sql}\nFORMAT JSONCompactEachRow`, query_params: params.values, clickhouse_settings: settings });
  let bytes = 0;
  let rows = 0;
  let firstByteSeconds: number | undefined;
  for await (const chunk of res.stream as AsyncIterable<Buffer>) {
    firstByteSeconds ??= elapsed(t0);
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
  }
  const seconds = elapsed(t0);
  // The count query Outport runs before streaming (for progress and reconciliation), timed on its own.
  const c0 = process.hrtime.bigint();
  await sourceFor(s).count(q);
  const countSeconds = elapsed(c0);
  return {
    rows, seconds, sourceBytes: bytes, outputBytes: bytes, firstByteSeconds,
    note: `first byte after ${firstByteSeconds?.toFixed(1)} s; the count query alone takes ${countSeconds.toFixed(1)} s`,
  };
}

/** Renders the query's rows into a COPY text file exactly as the Postgres plugin encodes them (untimed). */
export async function renderCopyFile(s: Services, q: SourceQuery, file: string): Promise<number> {
  const columns = MODEL_SCHEMAS[q.model].columns;
  const sanitizer = new Sanitizer();
  const out = fs.createWriteStream(file);
  let rows = 0;
  async function* lines() {
    for await (const batch of sourceFor(s).stream(q, { batchSize: 10_000 })) {
      let text = '';
      for (const row of batch.rows) text += encodeRow(row, columns, sanitizer);
      rows += batch.rows.length;
      yield Buffer.from(text, 'utf8');
    }
  }
  await pipeline(Readable.from(lines()), out);
  return rows;
}

/** COPY of a pre-rendered file into a fresh table with the destination's DDL (primary key, JSONB), on the same server. */
export async function postgresLimit(s: Services, model: Model, file: string, rowsInFile: number): Promise<Measurement> {
  const schema = MODEL_SCHEMAS[model];
  const table = `limit_${model}`;
  const client = new Client({ ...s.destination });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
    await client.query(createTableSql('public', table, schema));
    const cols = schema.columns.map((c) => quoteIdent(c.name)).join(', ');
    const t0 = process.hrtime.bigint();
    const copy = client.query(copyFrom(`COPY public.${quoteIdent(table)} (${cols}) FROM STDIN`));
    await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), copy);
    const seconds = elapsed(t0);
    if (copy.rowCount !== rowsInFile) throw new Error(`COPY limit: ${copy.rowCount} rows copied, ${rowsInFile} in the file`);
    return { rows: copy.rowCount, seconds, outputBytes: fs.statSync(file).size };
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${quoteIdent(table)}`).catch(() => undefined);
    await client.end();
  }
}

export type S3Format = 'parquet-zstd' | 'jsonl-gzip';

const WIRE: Record<S3Format, WireFormat> = {
  'parquet-zstd': { format: 'parquet', compression: 'zstd' },
  'jsonl-gzip': { format: 'jsonl', compression: 'gzip' },
};

/**
 * The table function arguments and the SELECT that make ClickHouse write exactly the bytes Outport's byte path
 * asks it for (src/source/encoded.ts): the same columns, JSON Lines shape and codec, so the limit is the same work.
 */
function sameOutput(s: Services, q: SourceQuery, format: S3Format): { formatArgs: string; select: string; params: Record<string, unknown>; settings: Record<string, unknown> } {
  const source = sourceFor(s);
  const { sql, params, settings } = source.build(q, 'rows', { withoutUtf8Rule: true });
  const { sql: select, settings: formatSettings } = encodedSelect(sql, MODEL_SCHEMAS[q.model], WIRE[format]);
  return {
    formatArgs: format === 'parquet-zstd' ? `'Parquet'` : `'TabSeparatedRaw', 'line String', 'gzip'`,
    select: select.replace(/\s*FORMAT \w+$/, ''),
    params: params.values,
    settings: { ...settings, ...formatSettings },
  };
}

/** ClickHouse writes the same output Outport lands straight to the S3 server: one object, no Node in between. */
export async function s3Limit(s: Services, q: SourceQuery, format: S3Format): Promise<Measurement> {
  const { formatArgs, select, params, settings } = sameOutput(s, q, format);
  const key = `limit/${q.model}.${format === 'parquet-zstd' ? 'parquet' : 'jsonl.gz'}`;
  const url = `${s.s3.endpoint}/${S3_BUCKET}/${key}`;
  const fn = `s3('${url}', '${s.s3.accessKeyId}', '${s.s3.secretAccessKey}', ${formatArgs})`;
  const t0 = process.hrtime.bigint();
  await s.ch.command({ query: `INSERT INTO FUNCTION ${fn} ${select}`, query_params: params, clickhouse_settings: { ...settings, s3_truncate_on_insert: 1 } as never });
  const seconds = elapsed(t0);
  const rs = await s.ch.query({ query: `SELECT count() AS n FROM ${fn}`, format: 'JSONEachRow' });
  const [{ n }] = await rs.json<{ n: number }>();
  return { rows: Number(n), seconds, outputBytes: s3ObjectSize(s, key) };
}

/** ClickHouse writes the same output Outport lands to a local file itself (`file()`): the local files limit. */
export async function fileLimit(s: Services, q: SourceQuery, format: S3Format, dir: string): Promise<Measurement> {
  const { formatArgs, select, params, settings } = sameOutput(s, q, format);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${q.model}.${format === 'parquet-zstd' ? 'parquet' : 'jsonl.gz'}`);
  fs.rmSync(file, { force: true });
  const fn = `file('${file}', ${formatArgs})`;
  const t0 = process.hrtime.bigint();
  await s.ch.command({ query: `INSERT INTO FUNCTION ${fn} ${select}`, query_params: params, clickhouse_settings: settings as never });
  const seconds = elapsed(t0);
  const rs = await s.ch.query({ query: `SELECT count() AS n FROM ${fn}`, format: 'JSONEachRow' });
  const [{ n }] = await rs.json<{ n: number }>();
  const outputBytes = fs.statSync(file).size;
  fs.rmSync(file, { force: true });
  return { rows: Number(n), seconds, outputBytes };
}

/** s3rver keeps each object as `<key>._S3rver_object` under its directory. */
export function s3ObjectSize(s: Services, key: string): number | undefined {
  try {
    return fs.statSync(path.join(s.s3.dir, S3_BUCKET, `${key}._S3rver_object`)).size;
  } catch {
    return undefined;
  }
}

export function elapsed(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
