/**
 * Redshift destination against the embedded Postgres (stand-in for Redshift's wire protocol and the SQL subset
 * both accept; insert mode, varchar JSON columns), and copy mode's S3 staging against the suite's local S3.
 */
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import redshift from '../../plugins/redshift';
import type { RedshiftConfig } from '../../plugins/redshift/config';
import { MAX_STATEMENT_BYTES } from '../../plugins/redshift/insert-statements';
import { runPrefix, S3Staging } from '../../plugins/redshift/s3-staging';
import { stageTableName } from '../../plugins/redshift/table';
import { ValueRules } from '../../plugins/redshift/values';
import { EVENTS_SCHEMA, isDestinationError, PERSONS_SCHEMA, type Model, type RecordBatch, type Row } from '../../src/sdk';
import { collectingLogger, hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import { eventRows, personRow } from '../../src/sdk/conformance/rows';
import { redshiftStandIn } from '../conformance/fixtures/redshift';
import { closedPort, quote, readTable } from '../support/pg-destination';

jest.setTimeout(120_000);

let dest: Awaited<ReturnType<typeof redshiftStandIn>>;
beforeAll(async () => {
  dest = await redshiftStandIn('rsplug');
});
afterAll(async () => {
  await dest?.drop();
});

function write(config: RedshiftConfig, model: Model, rows: Row[], o: { runId?: string; attempt?: number } = {}) {
  const ctx = runContext({ model, interval: hourInterval(0), expectedRows: rows.length, ...o });
  return { ctx, result: redshift.write(config, ctx, stream(toBatches(rows))) };
}

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return redshift.classifyError!(err);
  }
  throw new Error('expected a failure');
}

describe('Redshift insert mode on the Postgres stand-in', () => {
  it('cuts a run of big rows into several INSERT statements, none over 16 MB, and lands every row intact', async () => {
    const config = await dest.freshSchema();
    // ~60 KB in each of five columns: ~300 KB a row, 120 rows ~ 36 MB: at least three statements.
    const blob = (tag: string, i: number) => JSON.stringify({ tag, i, pad: 'é€𝄞x'.repeat(6_000) });
    const rows = eventRows(hourInterval(0), 0, 120).map((r, i) => ({
      ...r,
      properties: blob('p', i), person_properties: blob('pp', i), set: blob('s', i), set_once: blob('so', i),
      elements_chain: 'é'.repeat(30_000),
    }));
    const stage = stageTableName('split-run');
    const seen: { bytes: number; rows: number }[] = [];
    const original = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const [text, values] = args as [unknown, unknown];
      if (typeof text === 'string' && text.startsWith(`INSERT INTO ${quote(config.schema)}.${quote(stage)}`) && Array.isArray(values)) {
        const bytes = Buffer.byteLength(text) + values.reduce((n: number, v) => n + 4 + (v === null ? 0 : Buffer.byteLength(String(v))), 0);
        seen.push({ bytes, rows: values.length / EVENTS_SCHEMA.columns.length });
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args) as never;
    });
    try {
      const { result } = write(config, 'events', rows, { runId: 'split-run' });
      const res = await result;
      expect(res.rowsLanded).toBe(120);
      expect(res.details?.statements).toBe(seen.length);
    } finally {
      spy.mockRestore();
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const s of seen) expect(s.bytes).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);
    expect(seen.reduce((n, s) => n + s.rows, 0)).toBe(120);
    const back = await readTable(dest.db.url, config.schema, 'events', 'events');
    expect(back).toHaveLength(120);
    const byUuid = new Map(back.map((r) => [r.uuid, r]));
    for (const r of rows) {
      expect(JSON.parse(byUuid.get(r.uuid)!.set as string)).toEqual(JSON.parse(r.set as string));
      expect(byUuid.get(r.uuid)!.elements_chain).toBe(r.elements_chain);
    }
  });

  it('applies the 65,535-byte rule and the NUL rule and reports each change per column', async () => {
    const config = await dest.freshSchema();
    const hugeJson = JSON.stringify({ huge: '𝄞'.repeat(20_000) }); // 80,013 bytes
    const hugeText = 'ab' + 'é'.repeat(40_000); // 80,002 bytes
    const rows = eventRows(hourInterval(0), 0, 6).map((r, i) => ({
      ...r,
      properties: i < 2 ? hugeJson : '{"ok":true}',
      person_properties: null,
      set: null,
      set_once: null,
      elements_chain: i < 3 ? hugeText : i === 3 ? 'nul\u0000here\u0000' : 'plain',
      event: i === 4 ? 'ev\u0000' : 'e',
    }));
    const { ctx, result } = write(config, 'events', rows);
    const res = await result;
    expect(res.rowsLanded).toBe(6);
    // Reported to the host per column and rule (values), which logs them in the run's log; none on stdout only.
    expect(res.replacements?.map(({ column, rule, count }) => ({ column, rule, count }))).toEqual([
      { column: 'properties', rule: 'json_truncated_marker', count: 2 },
      { column: 'elements_chain', rule: 'nul', count: 1 },
      { column: 'event', rule: 'nul', count: 1 },
      { column: 'elements_chain', rule: 'text_truncated', count: 3 },
    ]);
    expect(ctx.logger.lines.filter((l) => l.startsWith('warn'))).toEqual([]);

    const back = new Map((await readTable(dest.db.url, config.schema, 'events', 'events')).map((r) => [r.uuid, r]));
    const stored = (i: number) => back.get(rows[i].uuid)!;
    expect(JSON.parse(stored(0).properties as string)).toEqual({ $outport_truncated: true, original_bytes: Buffer.byteLength(hugeJson) });
    expect(stored(2).properties).toBe('{"ok":true}');
    expect(stored(0).elements_chain).toBe('ab' + 'é'.repeat(32_766)); // 2 + 65,532 bytes; one more é would be 65,536
    expect(Buffer.byteLength(stored(1).elements_chain as string)).toBe(65_534);
    expect(stored(3).elements_chain).toBe('nul\uFFFDhere\uFFFD');
    expect(stored(4).event).toBe('ev\uFFFD');
  });

  it('drops a stage left by a killed attempt, and replays never duplicate persons', async () => {
    const config = await dest.freshSchema();
    const runId = `killed-${randomBytes(3).toString('hex')}`;
    const stage = stageTableName(runId);
    // What a killed attempt could leave: the stage, holding rows that must not leak into the table.
    await dest.sql(`CREATE TABLE ${quote(config.schema)}.${quote(stage)} (team_id BIGINT, distinct_id VARCHAR(65535), junk TEXT)`);
    await dest.sql(`INSERT INTO ${quote(config.schema)}.${quote(stage)} VALUES (1, 'ghost', 'x')`);
    const rows = Array.from({ length: 30 }, (_, key) => personRow(hourInterval(0), { key, personVersion: 2, tag: 'v2' }));
    for (const attempt of [2, 3]) {
      const { ctx, result } = write(config, 'persons', rows, { runId, attempt });
      expect((await result).rowsLanded).toBe(30);
      if (attempt === 2) expect(ctx.logger.lines.join('\n')).toContain(`Dropping the staging table ${stage}`);
    }
    // An older version replayed by another run changes nothing; a newer one replaces.
    const older = rows.map((r) => ({ ...r, person_version: 1, properties: '{"tag":"v1"}' }));
    expect((await write(config, 'persons', older).result).rowsLanded).toBe(30);
    const newer = rows.slice(0, 5).map((r) => ({ ...r, person_version: 3, properties: '{"tag":"v3"}' }));
    expect((await write(config, 'persons', [...newer, ...newer]).result).rowsLanded).toBe(5);

    const back = await readTable(dest.db.url, config.schema, 'persons', 'persons');
    expect(back).toHaveLength(30);
    const tags = back.map((r) => (r.properties === null ? null : JSON.parse(r.properties as string).tag));
    expect(tags.filter((t) => t === 'v3')).toHaveLength(5);
    expect(tags.filter((t) => t === 'v1')).toHaveLength(0);
    const left = await dest.sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE '\\_outport\\_stage\\_%'`, [config.schema]);
    expect(left.rows).toEqual([]);
  });

  it('an attempt that fails mid-stream leaves nothing behind, and its retry lands each row once', async () => {
    const config = await dest.freshSchema();
    const rows = eventRows(hourInterval(0), 0, 80);
    const controller = new AbortController();
    const ctx = runContext({ model: 'events', interval: hourInterval(0), runId: 'mid', signal: controller.signal });
    const err = await failure(redshift.write(config, ctx, stream(toBatches(rows), { batches: 3, controller })));
    expect(err.kind).toBe('retryable');
    expect(await readTable(dest.db.url, config.schema, 'events', 'events')).toEqual([]);
    expect((await write(config, 'events', rows, { runId: 'mid', attempt: 2 }).result).rowsLanded).toBe(80);
    expect((await write(config, 'events', rows, { runId: 'mid', attempt: 3 }).result).rowsLanded).toBe(80);
    expect(await readTable(dest.db.url, config.schema, 'events', 'events')).toHaveLength(80);
  });

  it('wrong password is a config error; a closed port is retryable', async () => {
    const config = await dest.freshSchema();
    const rows = eventRows(hourInterval(0), 0, 3);
    const bad = await failure(write({ ...config, password: 'wrong' }, 'events', rows).result);
    expect(bad.kind).toBe('config');
    expect(bad.message).toMatch(/Authentication failed.*Check user and password/);
    const badTest = await failure(redshift.testConnection({ ...config, password: 'wrong' }, { signal: new AbortController().signal, logger: collectingLogger() }));
    expect(badTest.kind).toBe('config');
    const down = await failure(write({ ...config, port: await closedPort() }, 'events', rows).result);
    expect(down.kind).toBe('retryable');
    expect(down.message).toMatch(/ECONNREFUSED/);
  });

  it('refuses an existing table whose JSON columns do not match properties_data_type, naming them', async () => {
    const config = await dest.freshSchema();
    await dest.sql(`CREATE TABLE ${quote(config.schema)}.persons (${PERSONS_SCHEMA.columns.map((c) => `${quote(c.name)} ${c.type === 'json' ? 'JSONB' : 'TEXT'}`).join(', ')})`);
    const err = await failure(write(config, 'persons', [personRow(hourInterval(0), { key: 1, personVersion: 1, tag: 't' })]).result);
    expect(err.kind).toBe('permanent');
    expect(err.code).toBe('COLUMN_TYPE_MISMATCH');
    expect(err.message).toContain('"properties" (jsonb)');
  });

  it('adds the columns an existing table lacks; FROZEN names them with the ALTER TABLE statements that add them', async () => {
    const config = await dest.freshSchema();
    await dest.sql(`CREATE TABLE ${quote(config.schema)}.events (team_id BIGINT, uuid VARCHAR(65535))`);
    // testConnection knows no export: a table that a run would evolve is fine.
    await redshift.testConnection(config, { signal: new AbortController().signal, logger: collectingLogger() });
    const rows = eventRows(hourInterval(0), 0, 3);
    const frozen = write(config, 'events', rows);
    frozen.ctx.schemaMode = 'FROZEN';
    const err = await failure(frozen.result);
    expect(err).toMatchObject({ kind: 'config', code: 'SCHEMA_FROZEN' });
    expect(err.message).toContain(`ALTER TABLE ${quote(config.schema)}."events" ADD COLUMN "event" VARCHAR(65535);`);
    const evolving = write(config, 'events', rows);
    expect((await evolving.result).rowsLanded).toBe(3);
    expect(evolving.ctx.logger.lines.join('\n')).toContain('added column(s) event, distinct_id');
  });
});

const s3Endpoint = process.env.OUTPORT_TEST_S3_ENDPOINT;
(s3Endpoint ? describe : describe.skip)('Redshift copy mode: S3 staging on the local S3 server (COPY itself needs Redshift)', () => {
  const s3 = () =>
    new S3Client({
      region: 'us-east-1',
      endpoint: s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: process.env.OUTPORT_TEST_S3_ACCESS_KEY!, secretAccessKey: process.env.OUTPORT_TEST_S3_SECRET_KEY! },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });

  it('uploads the run as gzip JSON Lines under its own prefix, clears leftovers first and everything after', async () => {
    const client = s3();
    const bucket = `rs-${randomBytes(4).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const prefix = runPrefix('exports', stageTableName('copy-run'));
    const staging = new S3Staging(client, bucket, prefix, new AbortController().signal);
    const leftover = new S3Staging(client, bucket, prefix, new AbortController().signal);
    await leftover.upload(EVENTS_SCHEMA, stream(toBatches(eventRows(hourInterval(0), 0, 5))), new ValueRules(), 'varchar', () => undefined);
    expect(await staging.clear()).toBe(1);

    const rows = eventRows(hourInterval(0), 0, 120);
    const rules = new ValueRules();
    const files = await staging.upload(EVENTS_SCHEMA, stream(toBatches(rows)) as AsyncIterable<RecordBatch>, rules, 'varchar', () => undefined);
    expect(files.rows).toBe(120);
    expect(files.keys).toEqual([`${prefix}part-00000.jsonl.gz`]);
    const obj = await client.send(new GetObjectCommand({ Bucket: bucket, Key: files.keys[0] }));
    const body = Buffer.from(await obj.Body!.transformToByteArray());
    expect(body.length).toBe(files.bytes);
    const lines = zlib.gunzipSync(body).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(120);
    expect(lines.map((l) => l.uuid)).toEqual(rows.map((r) => r.uuid));
    // varchar mode: JSON columns travel as strings (COPY loads the text); values went through the rule.
    const hugeRow = lines[2];
    expect(JSON.parse(hugeRow.properties)).toEqual({ $outport_truncated: true, original_bytes: Buffer.byteLength(rows[2].properties as string) });
    expect(lines[0].timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}\+00$/);
    expect(rules.count('json_truncated_marker')).toBeGreaterThan(0);

    expect(await staging.clear()).toBe(1);
    expect(await staging.list()).toEqual([]);
    staging.destroy();
  });
});
