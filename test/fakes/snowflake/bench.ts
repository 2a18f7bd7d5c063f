/**
 * For the benchmark (bench/): the limit of a Snowflake run against this fake, i.e. the fake's own load of exactly
 * the part files the plugin's byte path stages (ClickHouse writes them; `renderByteParts`), PUT to a staging table's
 * stage and loaded by one COPY INTO (`loadPartsTimed`), timed apart from the rendering. A run then adds reading,
 * the MERGE into the final table and bookkeeping around it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MODEL_SCHEMAS } from '../../../src/sdk';
import type { ClickHouseSource, SourceQuery } from '../../../src/source';
import { MAX_PART_ROWS, partSlices, SNOWFLAKE_WIRE_FORMAT } from '../../../plugins/snowflake';
import type { SnowflakeConfig } from '../../../plugins/snowflake/config';
import { SnowflakeSession } from '../../../plugins/snowflake/connection';
import { qualified, quoteIdent, resolveName } from '../../../plugins/snowflake/identifiers';
import * as sql from '../../../plugins/snowflake/sql';

export interface RenderedParts {
  files: string[];
  rows: number;
  bytes: number;
  seconds: number;
}

/** Writes the byte path's part files of query `q` into `dir` (sliced as the plugin slices a run of that size). */
export async function renderByteParts(source: ClickHouseSource, q: SourceQuery, dir: string, maxPartRows = MAX_PART_ROWS): Promise<RenderedParts> {
  fs.mkdirSync(dir, { recursive: true });
  const t0 = process.hrtime.bigint();
  const expectedRows = await source.count(q);
  const run = source.encodedRun(q, SNOWFLAKE_WIRE_FORMAT, { expectedRows });
  const out: RenderedParts = { files: [], rows: 0, bytes: 0, seconds: 0 };
  const slices = partSlices(expectedRows, maxPartRows);
  for (const [i, slice] of slices.entries()) {
    const file = path.join(dir, `part-${String(i + 1).padStart(5, '0')}.jsonl.gz`);
    const part = await run.open(slice);
    await pipeline(Readable.from(part.chunks), fs.createWriteStream(file));
    const { rows, bytes } = await part.finished();
    out.files.push(file);
    out.rows += rows;
    out.bytes += bytes;
  }
  out.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return out;
}

export interface LoadTimes {
  /** Rows COPY INTO reported loaded. */
  rows: number;
  putSeconds: number;
  copySeconds: number;
  /** PUT of every file + COPY INTO: the limit. */
  seconds: number;
}

/**
 * PUTs `files` to the stage of a fresh staging table of `model` (the plugin's staging DDL) through the real driver,
 * then loads them with the plugin's COPY INTO; timed from the first PUT to the end of the COPY. The table is dropped.
 */
export async function loadPartsTimed(config: SnowflakeConfig, model: SourceQuery['model'], files: string[]): Promise<LoadTimes> {
  const stageName = `BENCH_LIMIT_${model.toUpperCase()}`;
  const stage = qualified(config.database, config.schema, quoteIdent(stageName));
  const namespace = [config.database, config.schema].map((n) => quoteIdent(resolveName(n))).join('.');
  const stageLocation = `${namespace}.%${quoteIdent(stageName)}/limit/`;
  const session = await SnowflakeSession.open(config);
  try {
    await session.query(sql.createStage(stage, MODEL_SCHEMAS[model]));
    const t0 = process.hrtime.bigint();
    for (const file of files) await session.query(sql.put(file, stageLocation));
    const t1 = process.hrtime.bigint();
    const loaded = await session.query(sql.copy(stage, stageLocation));
    const t2 = process.hrtime.bigint();
    return {
      rows: loaded.reduce((n, r) => n + Number(r.rows_loaded ?? r.ROWS_LOADED ?? 0), 0),
      putSeconds: Number(t1 - t0) / 1e9,
      copySeconds: Number(t2 - t1) / 1e9,
      seconds: Number(t2 - t0) / 1e9,
    };
  } finally {
    await session.query(sql.dropTable(stage)).catch(() => undefined);
    await session.close();
  }
}
