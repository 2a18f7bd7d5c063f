/**
 * Layout POSTHOG (issue 14 item 4) end to end: a Postgres events table created exactly as PostHog's batch export
 * creates it (no unique key, VARCHAR(200)/JSONB/INTEGER columns) with rows PostHog wrote keeps them, receives each
 * event exactly once across a retried run and an overlapping backfill, filled as PostHog fills it, and keeps every
 * column's name and type.
 */
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const START = new Date('2026-04-01T00:00:00Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(START.getTime() + hours * HOUR).toISOString();

/** PostHog's Postgres batch export events table, as it creates it. */
const POSTHOG_EVENTS_DDL = (table: string) => `CREATE TABLE IF NOT EXISTS "public"."${table}" (
  "uuid" VARCHAR(200), "event" VARCHAR(200), "properties" JSONB, "elements" JSONB, "set" JSONB, "set_once" JSONB,
  "distinct_id" VARCHAR(200), "team_id" INTEGER, "ip" VARCHAR(200), "site_url" VARCHAR(200), "timestamp" TIMESTAMP WITH TIME ZONE)`;

let h: AppHarness;
let events: ReturnType<typeof generateEvents>;

beforeAll(async () => {
  h = await startAppHarness();
  events = generateEvents({ seed: 41, teamId: h.teamId, count: 200, start: START, stepMicros: 72_000_000 }); // 4 hours
  await insertEvents(h.ch, { database: h.chDatabase }, events);
}, 120_000);
afterAll(() => h?.stop());

async function gqlExport(table: string, extra: string): Promise<string> {
  const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
    `mutation($config: JSONObject!) { createDestination(input: { name: "posthog table", type: "postgres", config: $config }) { id } }`,
    { config: { ...h.destination, schema: 'public', ssl_mode: 'disable', table_name: table } },
  );
  const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
    `mutation($d: ID!) { createBatchExport(input: { name: "${table}", destinationId: $d, interval: HOUR, ${extra} }) { id } }`,
    { d: createDestination.id },
  );
  return createBatchExport.id;
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
  }, 120_000);
  return createBackfill.id;
}

const columnsOf = (table: string) =>
  h.destinationQuery<{ column_name: string; data_type: string; character_maximum_length: number | null; is_nullable: string }>(
    `SELECT column_name, data_type, character_maximum_length, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );

it('a PostHog-created Postgres events table keeps its rows and columns and receives each event exactly once', async () => {
  await h.destinationQuery(POSTHOG_EVENTS_DDL('posthog_events'));
  await h.destinationQuery(`INSERT INTO posthog_events VALUES
    ('00000000-0000-0000-0000-000000000001', 'written by posthog', '{"a":1}', '"div:text=\\"x\\""', '{}', '{}', 'old-user', ${h.teamId}, '10.0.0.1', '', '2025-01-01T00:00:00Z'),
    ('00000000-0000-0000-0000-000000000002', 'written by posthog', NULL, NULL, NULL, NULL, 'old-user', ${h.teamId}, NULL, '', '2025-01-01T00:00:00Z')`);
  const before = await columnsOf('posthog_events');
  const oldRows = await h.destinationQuery(`SELECT * FROM posthog_events ORDER BY uuid`);

  const id = await gqlExport('posthog_events', 'layout: POSTHOG');
  await backfill(id, 0, 4);
  const overlapping = await backfill(id, 1, 4);
  const [run] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start LIMIT 1`, [overlapping]);
  await h.gql(`mutation($r: ID!) { retryRun(id: $r) { id } }`, { r: run.id });
  await h.waitFor('retried run', async () => (await h.app.dataSource.query(`SELECT status FROM runs WHERE id = $1`, [run.id]))[0].status === 'Completed', 60_000);

  expect(await columnsOf('posthog_events')).toEqual(before);
  expect(await h.destinationQuery(`SELECT * FROM posthog_events WHERE event = 'written by posthog' ORDER BY uuid`)).toEqual(oldRows);
  const landed = await h.destinationQuery<{ uuid: string; n: string }>(`SELECT uuid, count(*)::text AS n FROM posthog_events WHERE event <> 'written by posthog' GROUP BY uuid ORDER BY uuid`);
  expect(landed.map((r) => r.uuid)).toEqual([...new Set(events.map((e) => e.uuid))].sort());
  expect(landed.every((r) => r.n === '1')).toBe(true);

  // Filled as PostHog fills it: elements is elements_chain as a JSON string, ip is properties.$ip, site_url is ''.
  const sample = events.find((e) => e.elements_chain && JSON.parse(e.properties || '{}').$ip !== undefined) ?? events.find((e) => e.elements_chain)!;
  const [row] = await h.destinationQuery<{ elements: unknown; ip: string | null; site_url: string; team_id: number; set: unknown }>(
    `SELECT elements, ip, site_url, team_id, "set" FROM posthog_events WHERE uuid = $1`, [sample.uuid],
  );
  expect(row.elements).toBe(sample.elements_chain);
  expect(row.site_url).toBe('');
  expect(row.team_id).toBe(h.teamId);
  const props = JSON.parse(sample.properties || '{}');
  expect(row.ip).toBe(props.$ip ?? null);
  expect(row.set).toEqual(props.$set ?? null);
}, 300_000);

it('layout POSTHOG refuses fields and custom queries, on create and update, naming the input; the export shows its layout', async () => {
  await expect(gqlExport('refused', 'layout: POSTHOG, fields: [{ source: "uuid" }, { source: "team_id" }]')).rejects.toThrow(/input\.layout.*leave fields out/s);
  const query = `SELECT toString(uuid) AS id FROM ${h.chDatabase}.events WHERE inserted_at >= {data_interval_start} AND inserted_at < {data_interval_end}`;
  await expect(gqlExport('refused2', `layout: POSTHOG, customQuery: { query: ${JSON.stringify(query)}, primaryKey: ["id"], mode: APPEND }`)).rejects.toThrow(/input\.layout.*custom query/s);
  const id = await gqlExport('switched', 'fields: [{ source: "uuid" }, { source: "team_id" }]');
  const update = (input: string) => h.gql<{ updateBatchExport: { layout: string; fields: unknown } }>(`mutation($id: ID!) { updateBatchExport(input: { id: $id, ${input} }) { layout fields { source } } }`, { id });
  await expect(update('layout: POSTHOG')).rejects.toThrow(/input\.layout.*leave fields out/s);
  expect((await update('layout: POSTHOG, fields: null')).updateBatchExport).toEqual({ layout: 'POSTHOG', fields: null });
  await expect(update('fields: [{ source: "uuid" }, { source: "team_id" }]')).rejects.toThrow(/input\.layout/);
  const { batchExport } = await h.gql<{ batchExport: { layout: string } }>(`query($id: ID!) { batchExport(id: $id) { layout } }`, { id });
  expect(batchExport.layout).toBe('POSTHOG');
}, 60_000);

it('a value too long for PostHog\'s VARCHAR(200) fails the run naming the column type, and is never cut', async () => {
  const long = generateEvents({ seed: 42, teamId: h.teamId, count: 1, start: new Date(START.getTime() + 10 * HOUR), stepMicros: 1_000_000 })
    .map((e) => ({ ...e, distinct_id: 'd'.repeat(201) }));
  await insertEvents(h.ch, { database: h.chDatabase }, long);
  await h.destinationQuery(POSTHOG_EVENTS_DDL('posthog_long'));
  const id = await gqlExport('posthog_long', 'layout: POSTHOG');
  await h.gql(`mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`, { e: id, s: at(10), t: at(11) });
  const run = await h.waitFor('the failed run', async () => {
    const [r] = await h.app.dataSource.query(`SELECT status, latest_error FROM runs WHERE batch_export_id = $1`, [id]);
    return r && !['Starting', 'Running', 'Scheduled', 'Queued'].includes(r.status) ? r : undefined;
  }, 60_000);
  expect(run).toMatchObject({ status: 'Failed', latest_error: expect.stringMatching(/character varying\(200\).*ALTER COLUMN <column> TYPE TEXT.*retry the run/s) });
  expect(await h.destinationQuery(`SELECT * FROM posthog_long`)).toEqual([]);
}, 180_000);

it('previews layout POSTHOG\'s columns and real rows for a destination kind before the export exists', async () => {
  await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: 43, teamId: h.teamId, count: 5, start: new Date(Date.now() - 2 * HOUR), stepMicros: 60_000_000 }));
  const { previewExportSchema: p } = await h.gql<{ previewExportSchema: { columns: { name: string; type: string }[]; key: string[]; rows: Record<string, unknown>[] } }>(
    `query { previewExportSchema(model: EVENTS, layout: POSTHOG, destinationType: "bigquery", rows: 3) { columns { name type } key rows } }`,
  );
  expect(p.columns.map((c) => c.name)).toEqual(['uuid', 'event', 'properties', 'elements', 'set', 'set_once', 'distinct_id', 'team_id', 'ip', 'site_url', 'timestamp', 'bq_ingested_timestamp']);
  expect(p.key).toEqual(['team_id', 'uuid']);
  expect(p.rows.length).toBeGreaterThan(0);
  for (const r of p.rows) expect(r).toMatchObject({ site_url: '', bq_ingested_timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
  await expect(h.gql(`query { previewExportSchema(model: EVENTS, layout: POSTHOG) { key } }`)).rejects.toThrow(/destinationType/);
}, 60_000);
