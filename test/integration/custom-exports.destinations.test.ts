/**
 * Field selections and custom queries end to end (issue 14 items 1-2) for the destinations other than Postgres
 * (custom-exports.test.ts): local files (JSON Lines, Parquet), S3 (s3rver), and the BigQuery and Snowflake fakes,
 * through the real API, worker and ClickHouse source. Each destination is read back as its users read it: files
 * through their run manifests (each run once, later runs merged over earlier ones by key and version), warehouse
 * tables as they are.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { generateEvents, insertEvents } from '../../src/source';
import type { Column, ModelSchema, Row } from '../../src/sdk';
import { decompressJsonl, jsonlCompressionFromName, listManifests, loadParquetLibs, mergeLatestVersions, readRun, type FileStore } from '../../src/sdk/files';
import { DirectoryStore } from '../../plugins/local-files/dir-store';
import { ServiceAccountTokens } from '../../plugins/bigquery/auth';
import { resolveName } from '../../plugins/snowflake/identifiers';
import { FakeBigQuery } from '../fakes/bigquery';
import type { FakeSnowflake } from '../fakes/snowflake/server';
import { freshS3Config, storeFor } from '../conformance/fixtures/s3';
import { freshConfig as freshSnowflakeConfig, startFake as startFakeSnowflake } from '../conformance/fixtures/snowflake';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const START = new Date('2026-04-01T00:00:00Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(START.getTime() + hours * HOUR).toISOString();
const filesRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-custom-exports-'));

let h: AppHarness;
let events: ReturnType<typeof generateEvents>;
let bigquery: FakeBigQuery;
let snowflake: FakeSnowflake;

beforeAll(async () => {
  h = await startAppHarness({ env: { OUTPORT_LOCAL_FILES_ROOT: filesRoot } });
  events = generateEvents({ seed: 14, teamId: h.teamId, count: 400, start: START, stepMicros: 36_000_000 }); // 4 hours
  const other = generateEvents({ seed: 15, teamId: h.teamId + 1000, count: 50, start: START, stepMicros: 288_000_000 });
  await insertEvents(h.ch, { database: h.chDatabase }, [...events, ...other]);
  [bigquery, snowflake] = await Promise.all([FakeBigQuery.start(), startFakeSnowflake()]);
}, 120_000);
afterAll(async () => {
  await h?.stop();
  await bigquery?.stop();
  await snowflake?.stop();
  fs.rmSync(filesRoot, { recursive: true, force: true });
});

/** A destination as its users read it back: its column names, and the rows a reader sees. */
interface Target {
  type: string;
  config(table: string): Promise<Record<string, unknown>>;
  columns(config: Record<string, unknown>, table: string, exportId: string): Promise<string[]>;
  /** Current rows: for files, every run of the export in write order merged by `schema`'s key and versions. */
  rows(config: Record<string, unknown>, table: string, exportId: string, schema: ModelSchema): Promise<Row[]>;
}

/** The runs of one export in a file store, each checked to hold every key once (as readModelRows does). */
async function exportRuns(store: FileStore, exportId: string, schema: ModelSchema): Promise<{ files: string[]; rows: Row[] }[]> {
  const runs = [];
  for (const { key, manifest } of await listManifests(store, '')) {
    if (manifest.export_id !== exportId) continue;
    const rows = await readRun(store, manifest, schema);
    const keys = rows.map((r) => JSON.stringify(schema.key.map((c) => r[c])));
    if (new Set(keys).size !== keys.length) throw new Error(`run ${key} holds a key twice`);
    runs.push({ files: manifest.files.map((f) => f.key), rows });
  }
  return runs;
}

async function fileColumns(store: FileStore, key: string): Promise<string[]> {
  const data = (await store.get(key))!;
  if (/\.parquet(\.|$)/.test(key)) {
    const { arrow, pq } = await loadParquetLibs();
    return arrow.tableFromIPC(pq.readParquet(data).intoIPCStream()).schema.fields.map((f: { name: string }) => f.name);
  }
  const firstLine = decompressJsonl(data, jsonlCompressionFromName(key)).toString('utf8').split('\n')[0];
  return Object.keys(JSON.parse(firstLine));
}

function fileTarget(type: string, extra: Record<string, unknown>, open: (config: Record<string, unknown>) => { store: FileStore; close(): void } | Promise<{ store: FileStore; close(): void }>): Target {
  const withStore = async <T>(config: Record<string, unknown>, fn: (store: FileStore) => Promise<T>): Promise<T> => {
    const { store, close } = await open(config);
    try {
      return await fn(store);
    } finally {
      close();
    }
  };
  return {
    type,
    config: async (table) => (type === 'local-files' ? { path: table, ...extra } : { ...(await freshS3Config()), ...extra }),
    columns: (config, _table, exportId) =>
      withStore(config, async (store) => {
        const [manifest] = (await listManifests(store, '')).filter((m) => m.manifest.export_id === exportId && m.manifest.files.length > 0);
        return fileColumns(store, manifest.manifest.files[0].key);
      }),
    rows: (config, _table, exportId, schema) =>
      withStore(config, async (store) => mergeLatestVersions((await exportRuns(store, exportId, schema)).flatMap((r) => r.rows), schema)),
  };
}

const localFiles = (format: Record<string, unknown>) =>
  fileTarget('local-files', format, (config) => ({ store: new DirectoryStore(path.join(filesRoot, `team-${h.teamId}`, String(config.path))), close: () => undefined }));

let datasets = 0;
const bigQueryTable = (config: Record<string, unknown>, table: string) => {
  const bq = new BigQuery({
    projectId: String(config.project_id),
    apiEndpoint: String(config.api_endpoint),
    authClient: new ServiceAccountTokens(JSON.parse(String(config.credentials_json))) as never,
    autoRetry: false,
  });
  return bq.dataset(String(config.dataset_id)).table(table);
};

const targets: Record<string, () => Target> = {
  'local files, JSON Lines': () => localFiles({ file_format: 'JSONLines', compression: 'gzip' }),
  'local files, Parquet': () => localFiles({ file_format: 'Parquet' }),
  'S3 (JSON Lines)': () => fileTarget('s3', { file_format: 'JSONLines', compression: 'none' }, (config) => storeFor(config as never)),
  BigQuery: () => ({
    type: 'bigquery',
    async config(table) {
      const dataset = `custom_${++datasets}_${Date.now()}`;
      await bigquery.createDataset(dataset);
      return { project_id: bigquery.projectId, dataset_id: dataset, credentials_json: JSON.stringify(bigquery.serviceAccountKey()), api_endpoint: bigquery.url, table_id: table };
    },
    async columns(config, table) {
      const [metadata] = await bigQueryTable(config, table).getMetadata();
      return metadata.schema.fields.map((f: { name: string }) => f.name);
    },
    async rows(config, table) {
      const [rows] = await bigQueryTable(config, table).getRows({ maxResults: 10_000 });
      return rows.map((r: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v !== null && typeof v === 'object' && 'value' in v ? String((v as { value: unknown }).value) : (v as Row[string])])),
      );
    },
  }),
  Snowflake: () => ({
    type: 'snowflake',
    config: async (table) => ({ ...(await freshSnowflakeConfig(snowflake)), table_name: table }),
    async columns(config, table) {
      const [first] = await snowflake.readTable(resolveName(String(config.database)), resolveName(String(config.schema)), resolveName(table));
      return Object.keys(first).map((c) => c.toLowerCase());
    },
    async rows(config, table) {
      const raw = await snowflake.readTable(resolveName(String(config.database)), resolveName(String(config.schema)), resolveName(table));
      return raw.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v])));
    },
  }),
};

const sourceUuids = () => [...new Set(events.map((e) => e.uuid))].sort();
const string = (name: string, nullable = false): Column => ({ name, type: 'string', nullable });
const schemaOf = (columns: Column[], key: string[], versionColumns: string[] = []): ModelSchema =>
  ({ model: 'events', columns, key, versionColumns, mutable: versionColumns.length > 0 }) as ModelSchema;

describe.each(Object.keys(targets))('%s', (name) => {
  const target = targets[name]();
  const slug = name.toLowerCase().replace(/[^a-z]+/g, '_').replace(/^_|_$/g, '');

  async function createExport(table: string, input: string, variables: Record<string, unknown> = {}): Promise<{ id: string; config: Record<string, unknown> }> {
    const config = await target.config(table);
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($config: JSONObject!) { createDestination(input: { name: "${table}", type: "${target.type}", config: $config }) { id } }`,
      { config },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!${'q' in variables ? ', $q: String!' : ''}) { createBatchExport(input: { name: "${table}", destinationId: $d, interval: HOUR, ${input} }) { id } }`,
      { d: createDestination.id, ...variables },
    );
    return { id: createBatchExport.id, config };
  }

  async function backfill(exportId: string, from: number, to: number): Promise<string> {
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: exportId, s: at(from), t: at(to) },
    );
    await h.waitFor(`backfill ${from}-${to}`, async () => {
      const { backfill: b } = await h.gql<{ backfill: { status: string } }>(`query($b: ID!) { backfill(id: $b) { status } }`, { b: createBackfill.id });
      if (b.status === 'FAILED') {
        const errors = await h.app.dataSource.query(`SELECT latest_error FROM runs WHERE backfill_id = $1 AND status <> 'Completed'`, [createBackfill.id]);
        throw new Error(`backfill failed: ${JSON.stringify(errors)}`);
      }
      return b.status === 'COMPLETED';
    }, 60_000);
    return createBackfill.id;
  }

  async function retryFirstRun(backfillId: string): Promise<void> {
    const [run] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start LIMIT 1`, [backfillId]);
    await h.gql(`mutation($r: ID!) { retryRun(id: $r) { id } }`, { r: run.id });
    await h.waitFor('retried run', async () => {
      const [r] = await h.app.dataSource.query(`SELECT status, latest_error FROM runs WHERE id = $1`, [run.id]);
      if (r.status === 'Failed') throw new Error(`retried run failed: ${r.latest_error}`);
      return r.status === 'Completed';
    }, 60_000);
  }

  it('a field selection lands exactly its columns: renamed, extracted from JSON, nothing else', async () => {
    const table = `selected_${slug}`;
    const { id, config } = await createExport(table, `fields: [{ source: "team_id" }, { source: "uuid", alias: "id" }, { source: "event" }, { source: "properties.$browser", alias: "browser" }]`);
    await backfill(id, 0, 4);
    expect(await target.columns(config, table, id)).toEqual(['team_id', 'id', 'event', 'browser']);
    const schema = schemaOf([{ name: 'team_id', type: 'int', nullable: false }, string('id'), string('event'), string('browser', true)], ['id']);
    const rows = await target.rows(config, table, id, schema);
    expect(rows.map((r) => String(r.id)).sort()).toEqual(sourceUuids());
    const withBrowser = events.filter((e) => JSON.parse(e.properties || '{}').$browser !== undefined);
    expect(withBrowser.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.browser !== null && r.browser !== undefined).length).toBe(new Set(withBrowser.map((e) => e.uuid)).size);
  }, 60_000);

  it('a custom query in append mode lands each key once across an overlapping backfill and a retried run', async () => {
    const table = `appended_${slug}`;
    const query = `SELECT toString(uuid) AS id, event, distinct_id FROM ${h.chDatabase}.events
      WHERE inserted_at >= {data_interval_start} AND inserted_at < {data_interval_end}`;
    const { id, config } = await createExport(table, `customQuery: { query: $q, primaryKey: ["id"], mode: APPEND }`, { q: query });
    await backfill(id, 0, 4);
    const overlapping = await backfill(id, 1, 4);
    await retryFirstRun(overlapping);
    expect(await target.columns(config, table, id)).toEqual(['id', 'event', 'distinct_id']);
    const rows = await target.rows(config, table, id, schemaOf([string('id'), string('event'), string('distinct_id')], ['id']));
    expect(rows.map((r) => String(r.id)).sort()).toEqual(sourceUuids());
  }, 90_000);

  it('a custom query in merge mode keeps the highest version per key, even when an earlier interval runs again', async () => {
    const table = `merged_${slug}`;
    const query = `SELECT distinct_id, count() AS events_in_interval, assumeNotNull(max(inserted_at)) AS last_inserted_at FROM ${h.chDatabase}.events
      WHERE inserted_at >= {data_interval_start} AND inserted_at < {data_interval_end} GROUP BY distinct_id`;
    const { id, config } = await createExport(table, `customQuery: { query: $q, primaryKey: ["distinct_id"], versionKey: ["last_inserted_at"], mode: MERGE }`, { q: query });
    await backfill(id, 0, 4);
    const firstHour = await backfill(id, 0, 1);
    await retryFirstRun(firstHour);
    const latest = new Map<string, string>();
    for (const e of events) {
      const t = e.inserted_at!;
      if (!latest.has(e.distinct_id) || latest.get(e.distinct_id)! < t) latest.set(e.distinct_id, t);
    }
    // The re-run of hour 0 must carry lower versions of keys seen later, or the proof proves nothing.
    const inFirstHour = new Set(events.filter((e) => e.inserted_at! < at(1)).map((e) => e.distinct_id));
    expect([...inFirstHour].filter((d) => latest.get(d)! >= at(1)).length).toBeGreaterThan(0);
    const schema = schemaOf(
      [string('distinct_id'), { name: 'events_in_interval', type: 'int', nullable: false }, { name: 'last_inserted_at', type: 'timestamp', nullable: false }],
      ['distinct_id'],
      ['last_inserted_at'],
    );
    const rows = await target.rows(config, table, id, schema);
    const norm = (v: unknown) => new Date(String(v).replace(' ', 'T').replace(/(\.\d{3})\d*/, '$1').replace(/(T[\d:.]+)$/, '$1Z')).toISOString().slice(0, 23);
    expect(rows.length).toBe(latest.size);
    expect(rows.filter((r) => norm(r.last_inserted_at) !== norm(latest.get(String(r.distinct_id))!)).map((r) => [r.distinct_id, r.last_inserted_at, latest.get(String(r.distinct_id))])).toEqual([]);
  }, 90_000);
});
