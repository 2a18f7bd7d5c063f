/**
 * The BigQuery plugin's byte path (writeEncoded, wire format bigquery-ndjson) against the fake BigQuery, with the
 * run's bytes written by the suite's ClickHouse: several load jobs cut at line breaks, the row path's values with
 * use_json_type off and on, the row path's refusal of a json value that is not a document, and exactly once when a
 * run fails half-way.
 */
import { randomUUID } from 'node:crypto';
import plugin, { stageTableId } from '../../plugins/bigquery';
import type { BigQueryConfig } from '../../plugins/bigquery/config';
import { NdjsonEncoder } from '../../plugins/bigquery/schema';
import { LOSSY_JSON_TEXTS, eventRows, lossyEventRows } from '../../src/sdk/conformance';
import { classifiedFailure, hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import { MODEL_SCHEMAS, type Row, type WireFormat } from '../../src/sdk';
import { FakeBigQuery } from '../fakes/bigquery';
import { readTable } from '../conformance/fixtures/bigquery';
import { encodeRowsWithClickHouse } from '../support/encode-rows';

jest.setTimeout(120_000);

let fake: FakeBigQuery;
let n = 0;
beforeAll(async () => {
  fake = await FakeBigQuery.start();
}, 60_000);
afterAll(async () => {
  await fake?.stop();
});
afterEach(() => fake.clearFailures());

async function freshConfig(overrides: Partial<BigQueryConfig> = {}): Promise<BigQueryConfig> {
  const dataset = `bytes_${++n}`;
  await fake.createDataset(dataset);
  return plugin.configSchema.parse({
    project_id: fake.projectId,
    dataset_id: dataset,
    credentials_json: JSON.stringify(fake.serviceAccountKey()),
    api_endpoint: fake.url,
    ...overrides,
  });
}

const interval = hourInterval(0);
const schema = MODEL_SCHEMAS.events;
const isWellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
/** Values ClickHouse can hold (no lone surrogates as characters) and JSON it parses (not nested past 1,023). */
const sourceCanHold = (row: Row) => Object.values(row).every((v) => typeof v !== 'string' || (isWellFormed(v) && !v.startsWith('{"deep": [[[[')));
const isDocument = (v: unknown) => {
  if (v === null) return true;
  try {
    JSON.parse(String(v));
    return true;
  } catch {
    return false;
  }
};

async function viaRows(config: BigQueryConfig, rows: Row[], o: { runId?: string } = {}) {
  return plugin.write(config, runContext({ model: 'events', interval, runId: o.runId ?? `rows-${randomUUID()}` }), stream(toBatches(rows)));
}

async function viaBytes(config: BigQueryConfig, rows: Row[], o: { runId?: string; attempt?: number; signal?: AbortSignal; onProgress?(): void } = {}) {
  const format = plugin.wireFormat!(config, { model: 'events', schema }) as WireFormat;
  const encoded = await encodeRowsWithClickHouse(rows, schema, format);
  try {
    const ctx = runContext({ model: 'events', interval, runId: o.runId ?? `bytes-${randomUUID()}`, attempt: o.attempt, signal: o.signal, expectedRows: rows.length });
    const progress = ctx.progress.bind(ctx);
    ctx.progress = (u) => {
      progress(u);
      o.onProgress?.();
    };
    const result = await plugin.writeEncoded!(config, ctx, encoded.run);
    return { result, ctx, replacements: await encoded.run.replacements() };
  } finally {
    await encoded.done();
  }
}

const byUuid = (rows: Row[]) => [...rows].sort((a, b) => String(a.uuid).localeCompare(String(b.uuid)));
const uploads = () => fake.requests.filter((r) => r.kind === 'job.upload' && r.status === 200).length;

describe('BigQuery byte path', () => {
  it('streams the hostile rows into several load jobs cut at line breaks and lands what the row path lands', async () => {
    const rows = [...eventRows(interval, 0, 240), ...lossyEventRows(interval, 240)].filter(sourceCanHold);
    const [rowsConfig, bytesConfig] = [await freshConfig(), await freshConfig({ load_job_size_mb: 0.03 })];
    expect(plugin.wireFormat!(bytesConfig, { model: 'events', schema })).toEqual({ format: 'bigquery-ndjson', compression: 'none', jsonColumns: 'text' });
    await viaRows(rowsConfig, rows);

    const before = uploads();
    const { result, ctx } = await viaBytes(bytesConfig, rows);
    // ~1.5 MB of NDJSON in jobs of ~31 KB: a job cut inside a line would fail to parse.
    expect(uploads() - before).toBeGreaterThan(10);
    expect(result.rowsLanded).toBe(rows.length);
    expect(ctx.progressRows).toBe(rows.length);
    expect(result.details?.rowsLoaded).toBe(rows.length);
    // Pruning range read back from the stage, since the byte path never sees a timestamp.
    const merge = fake.queries.filter((q) => q.startsWith('MERGE INTO') && q.includes(bytesConfig.dataset_id)).pop();
    const timestamps = rows.map((r) => String(r.timestamp)).sort();
    expect(merge).toContain(`BETWEEN TIMESTAMP '${timestamps[0].replace('T', ' ').replace('Z', '+00:00')}' AND TIMESTAMP '${timestamps.at(-1)!.replace('T', ' ').replace('Z', '+00:00')}'`);

    const a = byUuid(await readTable(fake, rowsConfig, 'events'));
    const b = byUuid(await readTable(fake, bytesConfig, 'events'));
    expect(b).toHaveLength(rows.length);
    expect(b).toEqual(a);
    expect(await fake.listTables(bytesConfig.dataset_id)).toEqual(['events']);
  });

  it('with use_json_type embeds the documents the row path sends, and lands the same values', async () => {
    const rows = eventRows(interval, 0, 200).filter(sourceCanHold);
    const [rowsConfig, bytesConfig] = [await freshConfig({ use_json_type: true }), await freshConfig({ use_json_type: true })];
    expect(plugin.wireFormat!(bytesConfig, { model: 'events', schema })).toMatchObject({ jsonColumns: 'document' });
    await viaRows(rowsConfig, rows);
    const { result, replacements } = await viaBytes(bytesConfig, rows);
    expect(result.rowsLanded).toBe(rows.length);
    expect(replacements).toEqual([]);
    const b = byUuid(await readTable(fake, bytesConfig, 'events'));
    expect(b).toEqual(byUuid(await readTable(fake, rowsConfig, 'events')));
    // Stored as documents (re-serialised), not as JSON strings of the text.
    expect(b.find((r) => r.uuid === rows[0].uuid)!.properties).toBe(JSON.stringify(JSON.parse(String(rows[0].properties))));
  });

  it('with use_json_type refuses a json value that is not a document as the row path does, landing nothing', async () => {
    const notJsonTexts = LOSSY_JSON_TEXTS.filter((t) => isWellFormed(t) && !isDocument(t));
    expect(notJsonTexts.length).toBeGreaterThan(3);
    const rows = [...eventRows(interval, 100, 20), ...eventRows(interval, 200, 8).map((r, k) => ({ ...r, properties: notJsonTexts[k % notJsonTexts.length] }))];
    for (const [path, run] of [['rows', viaRows], ['bytes', viaBytes]] as const) {
      const config = await freshConfig({ use_json_type: true });
      const runId = `not-json-${path}`;
      const err = await classifiedFailure(plugin, () => run(config, rows, { runId }));
      expect(err).toMatchObject({ kind: 'permanent', code: 'BAD_ROW' });
      expect(err.message).toMatch(/column properties .*not valid JSON, which a BigQuery JSON column requires \(set use_json_type to false/);
      expect(await readTable(fake, config, 'events')).toEqual([]);
      expect(await fake.listTables(config.dataset_id)).toEqual(['events']);
    }
  });

  it('a run cut off after its first load job lands nothing; the retry lands every row once', async () => {
    const rows = eventRows(interval, 0, 300);
    const config = await freshConfig({ load_job_size_mb: 0.05 });
    const runId = `cut-${randomUUID()}`;
    const controller = new AbortController();
    await classifiedFailure(plugin, () => viaBytes(config, rows, { runId, signal: controller.signal, onProgress: () => controller.abort(new Error('cancelled')) }));
    expect(uploads()).toBeGreaterThan(0);
    expect(await readTable(fake, config, 'events')).toEqual([]);
    expect(fake.requests.some((r) => r.kind === 'table.delete' && r.path.endsWith(stageTableId('events', runId)))).toBe(true);

    // A load job refused half-way through the run (the third upload).
    let uploadsSeen = 0;
    fake.failNext(1, { status: 503, reason: 'backendError', match: (r) => r.kind === 'job.upload' && ++uploadsSeen === 3 });
    expect((await classifiedFailure(plugin, () => viaBytes(config, rows, { runId, attempt: 2 }))).kind).toBe('retryable');
    expect(await readTable(fake, config, 'events')).toEqual([]);

    const { result } = await viaBytes(config, rows, { runId, attempt: 3 });
    expect(result.rowsLanded).toBe(rows.length);
    const again = await viaBytes(config, rows, { runId, attempt: 4 });
    expect(again.result.rowsLanded).toBe(rows.length);
    const landed = await readTable(fake, config, 'events');
    expect(landed).toHaveLength(rows.length);
    expect(new Set(landed.map((r) => r.uuid)).size).toBe(rows.length);
  });

  it('two exports writing one table, over overlapping rows, leave each row once', async () => {
    const rows = eventRows(interval, 0, 300);
    const config = await freshConfig({ load_job_size_mb: 0.05 });
    // One after the other: the fake's MERGE (Postgres) does not serialise concurrent inserts of one new key.
    const a = await viaBytes(config, rows.slice(0, 200), { runId: 'export-a-run' });
    const b = await viaBytes(config, rows.slice(100), { runId: 'export-b-run' });
    expect([a.result.rowsLanded, b.result.rowsLanded]).toEqual([200, 200]);
    const overlap = await viaBytes(config, rows.slice(50, 250), { runId: 'export-a-overlapping-run' });
    expect(overlap.result.rowsLanded).toBe(200);
    const landed = await readTable(fake, config, 'events');
    expect(landed).toHaveLength(300);
    expect(byUuid(landed).map((r) => r.uuid)).toEqual(byUuid(rows).map((r) => r.uuid));
    expect(await fake.listTables(config.dataset_id)).toEqual(['events']);
  });
});

describe('bigquery-ndjson bytes', () => {
  it('are the NdjsonEncoder\'s lines: the same values on every line, the same bytes but for the spelling of some escapes', async () => {
    const rows = [...eventRows(interval, 0, 240), ...lossyEventRows(interval, 240)].filter(sourceCanHold);
    for (const useJsonType of [false, true]) {
      const config = await freshConfig({ use_json_type: useJsonType });
      const chosen = useJsonType ? rows.filter((r) => ['properties', 'person_properties', 'set', 'set_once'].every((c) => isDocument(r[c]))) : rows;
      const encoder = new NdjsonEncoder(schema, useJsonType);
      const expected = chosen.map((r) => encoder.line(r));
      const encoded = await encodeRowsWithClickHouse(chosen, schema, plugin.wireFormat!(config, { model: 'events', schema })!);
      let text = '';
      try {
        const part = await encoded.run.open();
        const chunks: Buffer[] = [];
        for await (const c of part.chunks) chunks.push(Buffer.from(c));
        text = Buffer.concat(chunks).toString('utf8');
        expect((await part.finished()).rows).toBe(chosen.length);
      } finally {
        await encoded.done();
      }
      const lines = text.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(expected.length);
      const spelledOtherwise: string[] = [];
      lines.forEach((line, i) => {
        expect(JSON.parse(line)).toEqual(JSON.parse(expected[i]));
        if (`${line}\n` !== expected[i]) spelledOtherwise.push(line);
      });
      // Only lines holding control characters or U+2028/U+2029 in a string are spelled otherwise: ClickHouse escapes
      // them with upper-case hex, and U+2028/U+2029 too, which JSON.stringify leaves raw.
      for (const line of spelledOtherwise) expect(line).toMatch(/\\u(00[01][0-9A-F]|2028|2029)/);
      expect(spelledOtherwise.length).toBeLessThan(lines.length / 5);
    }
  });
});
