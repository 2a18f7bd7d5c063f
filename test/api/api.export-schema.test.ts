/** Fields and custom queries through the API: typed errors naming the field, the preview, and the stored export. */
import { generateEvents, insertEvents } from '../../src/source/generator';
import { createTestClickHouse } from '../source/support/clickhouse';
import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
let ch: Awaited<ReturnType<typeof createTestClickHouse>>;
let destinationId: string;
beforeAll(async () => {
  ch = await createTestClickHouse('api_schema');
  const now = new Date(Date.now() - 3_600_000);
  await insertEvents(ch.client, { database: ch.database }, generateEvents({ seed: 61, count: 5, teamId: 1, start: now }));
  h = await startApiHarness({ source: ch.source });
  const r = await h.ok(h.a.token, `mutation { createDestination(input: { name: "files", type: "example-ndjson", config: { directory: "/tmp" } }) { id } }`);
  destinationId = r.createDestination.id;
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await ch?.drop();
});

const PREVIEW = `query($model: Model!, $fields: [ExportFieldInput!], $customQuery: CustomQueryInput) {
  previewExportSchema(model: $model, fields: $fields, customQuery: $customQuery) { columns { name type nullable } key versionColumns rows } }`;
const CREATE = `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id model fields { source alias type } customQuery { query primaryKey versionKey mode } } }`;

it('previews a field selection with its types and real rows', async () => {
  const r = await h.ok(h.a.token, PREVIEW, { model: 'EVENTS', fields: [{ source: 'team_id' }, { source: 'uuid', alias: 'id' }, { source: 'properties.$browser', alias: 'browser' }] });
  expect(r.previewExportSchema).toMatchObject({
    columns: [{ name: 'team_id', type: 'INT', nullable: false }, { name: 'id', type: 'STRING', nullable: false }, { name: 'browser', type: 'STRING', nullable: true }],
    key: ['team_id', 'id'],
    versionColumns: [],
  });
  expect(r.previewExportSchema.rows.length).toBeGreaterThan(0);
  expect(Object.keys(r.previewExportSchema.rows[0])).toEqual(['team_id', 'id', 'browser']);
});

it('refuses a field selection without the key, naming the field', async () => {
  const r = await h.gql(h.a.token, CREATE, { input: { name: 'x', destinationId, interval: 'HOUR', fields: [{ source: 'event' }, { source: 'properties.$browser' }] } });
  expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fields.1.alias' });
});

it('creates a custom query export and shows it; refuses an unsafe one with the field named', async () => {
  const query = `SELECT toString(uuid) AS id, event FROM ${ch.database}.events WHERE inserted_at >= {data_interval_start} AND inserted_at < {data_interval_end}`;
  const ok = await h.ok(h.a.token, CREATE, { input: { name: 'cq', destinationId, interval: 'HOUR', customQuery: { query, primaryKey: ['id'], mode: 'APPEND' } } });
  expect(ok.createBatchExport).toMatchObject({ model: 'EVENTS', fields: null, customQuery: { query, primaryKey: ['id'], versionKey: [], mode: 'APPEND' } });

  const bad = await h.gql(h.a.token, CREATE, { input: { name: 'cq', destinationId, interval: 'HOUR', customQuery: { query: `${query} AND event IN (SELECT name FROM system.tables)`, primaryKey: ['id'], mode: 'APPEND' } } });
  expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.customQuery.query' });
  expect(bad.errors?.[0].message).toMatch(/system\.tables is not allowed/);

  const noKey = await h.gql(h.a.token, PREVIEW, { model: 'EVENTS', customQuery: { query, primaryKey: ['uuid'], mode: 'APPEND' } });
  expect(noKey.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.customQuery.primaryKey' });
});

it('stores schemaMode (EVOLVE by default), shows it, and changes it on update', async () => {
  const created = await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id schemaMode } }`, { input: { name: 'sm', destinationId, interval: 'HOUR' } });
  expect(created.createBatchExport.schemaMode).toBe('EVOLVE');
  const id = created.createBatchExport.id;
  const updated = await h.ok(h.a.token, `mutation($id: ID!) { updateBatchExport(input: { id: $id, schemaMode: FROZEN }) { schemaMode } }`, { id });
  expect(updated.updateBatchExport.schemaMode).toBe('FROZEN');
  const frozen = await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { schemaMode } }`, { input: { name: 'sm2', destinationId, interval: 'HOUR', schemaMode: 'FROZEN' } });
  expect(frozen.createBatchExport.schemaMode).toBe('FROZEN');
  const bad = await h.gql(h.a.token, `mutation($id: ID!) { updateBatchExport(input: { id: $id, schemaMode: THAWED }) { schemaMode } }`, { id });
  expect(bad.errors?.[0].message).toMatch(/SchemaMode/);
});
