/**
 * Field selections and custom queries end to end (issue 14 items 1-2): the real API, worker, ClickHouse source and a
 * Postgres destination. A field selection lands exactly its columns; a custom query in append mode lands each key
 * exactly once across an overlapping backfill and a retried run; merge mode keeps the highest version, even when an
 * earlier interval is exported again after a later one.
 */
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const START = new Date('2026-04-01T00:00:00Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(START.getTime() + hours * HOUR).toISOString();

let h: AppHarness;
let destinationFor: (table: string) => Promise<string>;
let events: ReturnType<typeof generateEvents>;

beforeAll(async () => {
  h = await startAppHarness();
  events = generateEvents({ seed: 14, teamId: h.teamId, count: 400, start: START, stepMicros: 36_000_000 }); // 4 hours
  const other = generateEvents({ seed: 15, teamId: h.teamId + 1000, count: 50, start: START, stepMicros: 288_000_000 });
  await insertEvents(h.ch, { database: h.chDatabase }, [...events, ...other]);
  destinationFor = async (table) => {
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($config: JSONObject!) { createDestination(input: { name: "warehouse", type: "postgres", config: $config }) { id } }`,
      { config: { ...h.destination, schema: 'public', ssl_mode: 'disable', table_name: table } },
    );
    return createDestination.id;
  };
}, 120_000);
afterAll(() => h?.stop());

async function createExport(table: string, input: string, variables: Record<string, unknown> = {}): Promise<string> {
  const d = await destinationFor(table);
  const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
    `mutation($d: ID!${'q' in variables ? ', $q: String!' : ''}) { createBatchExport(input: { name: "${table}", destinationId: $d, interval: HOUR, ${input} }) { id } }`,
    { d, ...variables },
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

async function retryFirstRun(backfillId: string): Promise<void> {
  const [run] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start LIMIT 1`, [backfillId]);
  await h.gql(`mutation($r: ID!) { retryRun(id: $r) { id } }`, { r: run.id });
  await h.waitFor('retried run', async () => {
    const [r] = await h.app.dataSource.query(`SELECT status FROM runs WHERE id = $1`, [run.id]);
    return r.status === 'Completed';
  }, 60_000);
}

const columnsOf = async (table: string) =>
  (await h.destinationQuery<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`, [table])).map((r) => r.column_name);

const sourceUuids = () => [...new Set(events.map((e) => e.uuid))].sort();

it('a field selection lands exactly its columns: renamed, extracted from JSON, nothing else', async () => {
  const id = await createExport('selected', `fields: [{ source: "team_id" }, { source: "uuid", alias: "id" }, { source: "event" }, { source: "properties.$browser", alias: "browser" }]`);
  await backfill(id, 0, 4);
  expect(await columnsOf('selected')).toEqual(['team_id', 'id', 'event', 'browser']);
  const rows = await h.destinationQuery<{ id: string; browser: string | null }>(`SELECT id::text AS id, browser FROM selected ORDER BY id`);
  expect(rows.map((r) => r.id)).toEqual(sourceUuids());
  const withBrowser = events.filter((e) => JSON.parse(e.properties || '{}').$browser !== undefined);
  expect(rows.filter((r) => r.browser !== null).length).toBe(new Set(withBrowser.map((e) => e.uuid)).size);
}, 180_000);

it('a custom query in append mode lands each key once across an overlapping backfill and a retried run', async () => {
  const query = `SELECT toString(uuid) AS id, event, distinct_id FROM ${h.chDatabase}.events
    WHERE inserted_at >= {data_interval_start} AND inserted_at < {data_interval_end}`;
  const id = await createExport('appended', `customQuery: { query: $q, primaryKey: ["id"], mode: APPEND }`, { q: query });
  await backfill(id, 0, 4);
  const overlapping = await backfill(id, 1, 4);
  await retryFirstRun(overlapping);
  expect(await columnsOf('appended')).toEqual(['id', 'event', 'distinct_id']);
  const rows = await h.destinationQuery<{ id: string }>(`SELECT id FROM appended ORDER BY id`);
  expect(rows.map((r) => r.id)).toEqual(sourceUuids());
}, 240_000);

it('a custom query in merge mode keeps the highest version per key, even when an earlier interval runs again', async () => {
  const query = `SELECT distinct_id, count() AS events_in_interval, assumeNotNull(max(inserted_at)) AS last_inserted_at FROM ${h.chDatabase}.events
    WHERE inserted_at >= {data_interval_start} AND inserted_at < {data_interval_end} GROUP BY distinct_id`;
  const id = await createExport('merged', `customQuery: { query: $q, primaryKey: ["distinct_id"], versionKey: ["last_inserted_at"], mode: MERGE }`, { q: query });
  await backfill(id, 0, 4);
  const firstHour = await backfill(id, 0, 1);
  await retryFirstRun(firstHour);
  const latest = new Map<string, string>();
  for (const e of events) {
    const t = e.inserted_at!;
    if (!latest.has(e.distinct_id) || latest.get(e.distinct_id)! < t) latest.set(e.distinct_id, t);
  }
  const rows = await h.destinationQuery<{ distinct_id: string; v: string }>(
    `SELECT distinct_id, to_char(last_inserted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS v FROM merged ORDER BY distinct_id`,
  );
  expect(rows.length).toBe(latest.size);
  const norm = (iso: string) => new Date(iso).toISOString().slice(0, 23);
  expect(rows.every((r) => norm(r.v) === norm(latest.get(r.distinct_id)!))).toBe(true);
}, 240_000);
