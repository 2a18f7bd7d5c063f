/**
 * Schema evolution (issue 14 item 3) on every table destination, through each plugin's own write path against its
 * real store (Postgres, Redshift's Postgres stand-in, the BigQuery and Snowflake fakes): a table created by a run
 * with some columns; then the export gains a column (added, stored rows kept, NULL there), stops writing a NOT NULL
 * column (made nullable, stored values kept), gains one under FROZEN (a config error saying how to proceed, table
 * untouched), or retypes a column the table cannot hold (a config error naming the column).
 */
import { BigQuery } from '@google-cloud/bigquery';
import bigquery from '../../plugins/bigquery';
import { ServiceAccountTokens } from '../../plugins/bigquery/auth';
import type { BigQueryConfig } from '../../plugins/bigquery/config';
import postgres from '../../plugins/postgres';
import redshift from '../../plugins/redshift';
import snowflake from '../../plugins/snowflake';
import { isDestinationError, type Column, type DestinationError, type DestinationPlugin, type ModelSchema, type Row, type SchemaMode } from '../../src/sdk';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import { destinationDatabase } from '../conformance/fixtures/postgres';
import { redshiftStandIn } from '../conformance/fixtures/redshift';
import { freshConfig as freshSnowflakeConfig, startFake as startFakeSnowflake } from '../conformance/fixtures/snowflake';
import { FakeBigQuery } from '../fakes/bigquery';
import type { FakeSnowflake } from '../fakes/snowflake/server';
import { quote } from '../support/pg-destination';

jest.setTimeout(120_000);

const interval = hourInterval(0);
const col = (name: string, type: Column['type'], nullable = false): Column => ({ name, type, nullable });
/** An export of a few columns, with neither `_inserted_at` nor the events model's full layout. */
const base: ModelSchema = {
  model: 'events',
  columns: [col('team_id', 'int'), col('uuid', 'string'), col('event', 'string'), col('timestamp', 'timestamp')],
  key: ['team_id', 'uuid'],
  versionColumns: [],
  mutable: false,
};
const withColumns = (schema: ModelSchema, ...extra: Column[]): ModelSchema => ({ ...schema, columns: [...schema.columns, ...extra] });
const without = (schema: ModelSchema, name: string): ModelSchema => ({ ...schema, columns: schema.columns.filter((c) => c.name !== name) });
const retyped = (schema: ModelSchema, name: string, type: Column['type']): ModelSchema => ({
  ...schema,
  columns: schema.columns.map((c) => (c.name === name ? { ...c, type } : c)),
});

function row(i: number, extra: Row = {}): Row {
  return { team_id: 1, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, event: `e${i}`, timestamp: '2024-01-01T00:30:00.000000Z', ...extra };
}

interface Target<C> {
  name: string;
  plugin: DestinationPlugin<C>;
  fresh(): Promise<C>;
  /** The table's rows by uuid, each column (lower case) as text or null. */
  read(config: C): Promise<Map<string, Record<string, string | null>>>;
  /** The table's column names, lower case. */
  columns(config: C): Promise<string[]>;
  /** False where the destination cannot make a column nullable (Redshift). */
  relaxes: boolean;
}

async function write<C>(t: Target<C>, config: C, schema: ModelSchema, rows: Row[], schemaMode?: SchemaMode) {
  const ctx = { ...runContext({ model: 'events', interval }), schema, ...(schemaMode ? { schemaMode } : {}) };
  const result = await t.plugin.write(config, ctx, stream(toBatches(rows)));
  return { result, logs: ctx.logger.lines.join('\n') };
}

async function failure(p: Promise<unknown>, plugin: DestinationPlugin): Promise<DestinationError> {
  try {
    await p;
  } catch (err) {
    const e = isDestinationError(err) ? err : plugin.classifyError!(err);
    return e;
  }
  throw new Error('expected the write to fail');
}

const text = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'object' && 'value' in (v as object) ? String((v as { value: unknown }).value) : String(v));
const byUuid = (rows: Record<string, unknown>[]) =>
  new Map(rows.map((r) => {
    const lower = Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), text(v)]));
    return [lower.uuid as string, lower];
  }));

function pgTarget<C extends { schema: string }>(name: string, plugin: DestinationPlugin<C>, make: () => ReturnType<typeof destinationDatabase>, relaxes: boolean): Target<C> & { setUp(): Promise<void>; tearDown(): Promise<void> } {
  let dest: Awaited<ReturnType<typeof destinationDatabase>>;
  const table = (c: C) => `${quote(c.schema)}.events`;
  return {
    name,
    plugin,
    relaxes,
    setUp: async () => void (dest = await make()),
    tearDown: async () => dest?.drop(),
    fresh: async () => (await dest.freshSchema()) as unknown as C,
    read: async (c) => byUuid((await dest.sql(`SELECT * FROM ${table(c)}`)).rows),
    columns: async (c) =>
      (await dest.sql(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'events' ORDER BY ordinal_position`, [c.schema])).rows.map((r) => r.column_name),
  };
}

const pg = pgTarget('postgres', postgres, () => destinationDatabase('pgevolve'), true);
const rs = pgTarget('redshift', redshift as DestinationPlugin, () => redshiftStandIn('rsevolve') as never, false);

let fakeBq: FakeBigQuery;
let bqN = 0;
const bq: Target<BigQueryConfig> = {
  name: 'bigquery',
  plugin: bigquery,
  relaxes: true,
  fresh: async () => {
    const dataset = `evolve_${++bqN}`;
    await fakeBq.createDataset(dataset);
    return bigquery.configSchema.parse({ project_id: fakeBq.projectId, dataset_id: dataset, credentials_json: JSON.stringify(fakeBq.serviceAccountKey()), api_endpoint: fakeBq.url });
  },
  read: async (c) => {
    const [rows] = await table(c).getRows({ maxResults: 500 });
    return byUuid(rows);
  },
  columns: async (c) => ((await table(c).getMetadata())[0].schema.fields as { name: string }[]).map((f) => f.name.toLowerCase()),
};
function table(c: BigQueryConfig) {
  const client = new BigQuery({ projectId: c.project_id, apiEndpoint: c.api_endpoint, authClient: new ServiceAccountTokens(JSON.parse(c.credentials_json)) as never, autoRetry: false });
  return client.dataset(c.dataset_id).table('events');
}

let fakeSf: FakeSnowflake;
const sf: Target<Awaited<ReturnType<typeof freshSnowflakeConfig>>> = {
  name: 'snowflake',
  plugin: snowflake,
  relaxes: true,
  fresh: () => freshSnowflakeConfig(fakeSf),
  read: async (c) => byUuid(await fakeSf.readTable('ANALYTICS', c.schema, 'EVENTS')),
  columns: async (c) => Object.keys((await fakeSf.readTable('ANALYTICS', c.schema, 'EVENTS'))[0] ?? {}).map((k) => k.toLowerCase()),
};

beforeAll(async () => {
  await Promise.all([pg.setUp(), rs.setUp()]);
  fakeBq = await FakeBigQuery.start();
  fakeSf = await startFakeSnowflake();
}, 120_000);
afterAll(async () => {
  await Promise.all([pg.tearDown(), rs.tearDown(), fakeBq?.stop(), fakeSf?.stop()]);
});

describe.each([pg, rs, bq, sf] as Target<unknown>[])('$name', (t) => {
  it('adds a column the export gains to the table created by an earlier run, keeping every stored row', async () => {
    const config = await t.fresh();
    expect((await write(t, config, base, [row(1), row(2), row(3)])).result.rowsLanded).toBe(3);

    const gained = withColumns(base, col('browser', 'string', true));
    const second = await write(t, config, gained, [row(4, { browser: 'Firefox' }), row(5, { browser: 'Chrome' })]);
    expect(second.result.rowsLanded).toBe(2);
    expect(second.logs).toMatch(/added column\(s\) browser/);
    const rows = await t.read(config);
    expect(rows.size).toBe(5);
    expect([1, 2, 3, 4, 5].map((i) => [rows.get(row(i).uuid as string)?.event, rows.get(row(i).uuid as string)?.browser])).toEqual([
      ['e1', null], ['e2', null], ['e3', null], ['e4', 'Firefox'], ['e5', 'Chrome'],
    ]);
    // A retry of the second run after the change adds nothing twice.
    expect((await write(t, config, gained, [row(4, { browser: 'Firefox' })])).result.rowsLanded).toBe(1);
    expect((await t.read(config)).size).toBe(5);
  });

  it('FROZEN: a run whose export gained a column fails with a config error saying how to proceed, and changes nothing', async () => {
    const config = await t.fresh();
    await write(t, config, base, [row(1)]);
    const err = await failure(write(t, config, withColumns(base, col('os', 'string', true)), [row(2, { os: 'Linux' })], 'FROZEN'), t.plugin);
    expect(err).toMatchObject({ kind: 'config', code: 'SCHEMA_FROZEN' });
    expect(err.message).toMatch(/lacks column\(s\) os/);
    expect(err.message).toMatch(/set the export's schemaMode to EVOLVE/);
    expect(await t.columns(config)).not.toContain('os');
    expect((await t.read(config)).size).toBe(1);
  });

  it('a NOT NULL column the export no longer writes keeps its stored values and holds NULL in new rows', async () => {
    const config = await t.fresh();
    await write(t, config, base, [row(1)]);
    const narrower = without(base, 'event');
    if (!t.relaxes) {
      const err = await failure(write(t, config, narrower, [row(2)]), t.plugin);
      expect(err).toMatchObject({ kind: 'config', code: 'COLUMNS_NOT_WRITTEN' });
      expect(err.message).toMatch(/NOT NULL column\(s\) event .*select those fields in the export again/);
      return;
    }
    const { event: _dropped, ...second } = row(2);
    expect((await write(t, config, narrower, [second])).result.rowsLanded).toBe(1);
    const rows = await t.read(config);
    expect(rows.get(row(1).uuid as string)?.event).toBe('e1');
    expect(rows.get(row(2).uuid as string)?.event ?? null).toBeNull();
  });

  it('a column retyped beyond what the table can hold fails with a config error naming it, and drops nothing', async () => {
    const config = await t.fresh();
    await write(t, config, base, [row(1)]);
    const err = await failure(write(t, config, retyped(base, 'timestamp', 'bool'), [row(2, { timestamp: true })]), t.plugin);
    expect(err).toMatchObject({ kind: 'config', code: 'COLUMN_TYPE_MISMATCH' });
    expect(err.message).toMatch(/column timestamp is .* but the export writes/);
    expect((await t.read(config)).size).toBe(1);
  });

  it('a missing key column means the table holds other data: refused, not evolved', async () => {
    const config = await t.fresh();
    await write(t, config, base, [row(1)]);
    const otherKey: ModelSchema = { ...withColumns(base, col('id', 'string')), key: ['team_id', 'id'] };
    const err = await failure(write(t, config, otherKey, [row(2, { id: 'x' })]), t.plugin);
    expect(err).toMatchObject({ kind: 'config', code: 'KEY_COLUMNS_MISSING' });
    expect(await t.columns(config)).not.toContain('id');
  });
});

describe('postgres', () => {
  it('keeps a wider column type the table already has when every value converts (an int field into a TEXT column)', async () => {
    const config = (await pg.fresh()) as { schema: string };
    const withBrowser = withColumns(base, col('browser', 'string', true));
    await write(pg, config, withBrowser, [row(1, { browser: 'Firefox' })]);
    expect((await write(pg, config, retyped(withBrowser, 'browser', 'int'), [row(2, { browser: 7 })])).result.rowsLanded).toBe(1);
    const rows = await pg.read(config);
    expect([rows.get(row(1).uuid as string)?.browser, rows.get(row(2).uuid as string)?.browser]).toEqual(['Firefox', '7']);
  });
});
