/**
 * Events on the Postgres byte path load keys first (load.ts): the run's keys into a temp table, the stored rows with
 * those keys deleted, the rows COPYed straight into the table, in one transaction under the table's lock. Checked
 * where it matters: a replay replaces exactly the run's rows, other rows stay; a table whose json columns are text
 * takes the stage load (its INSERT casts through jsonb and stores normalised JSON, as the row path does); keys given
 * twice, or a table another run is loading into, take the stage load; an abort in the middle of the COPY leaves
 * the table as it was.
 */
import { Client } from 'pg';
import { MODEL_SCHEMAS, type Row } from '../../src/sdk';
import { eventRows } from '../../src/sdk/conformance';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import postgres from '../../plugins/postgres';
import { PGCOPY, writeEncodedRun } from '../../plugins/postgres/write';
import { destinationDatabase } from '../conformance/fixtures/postgres';
import { encodeRowsWithClickHouse } from '../support/encode-rows';
import { quote, readTable } from '../support/pg-destination';

const interval = hourInterval(0);
const schema = MODEL_SCHEMAS.events;
const jsonColumns = schema.columns.filter((c) => c.type === 'json').map((c) => c.name);
/** Not in jsonb's spelling (key order, spaces, duplicate keys): jsonb normalises it to `{"a": 2, "b": 1}`. */
const UNNORMALISED = '{"b":1,"a":1,"a":2}';

let dest: Awaited<ReturnType<typeof destinationDatabase>>;
beforeAll(async () => {
  dest = await destinationDatabase('pgkeys');
});
afterAll(async () => {
  await dest?.drop();
});

async function byteRun(config: Parameters<typeof writeEncodedRun>[0], rows: Row[], o: { signal?: AbortSignal; onProgress?(): void } = {}) {
  const encoded = await encodeRowsWithClickHouse(rows, schema, PGCOPY);
  const ctx = runContext({ model: 'events', interval, expectedRows: rows.length, signal: o.signal });
  const progress = ctx.progress.bind(ctx);
  ctx.progress = (u) => {
    progress(u);
    o.onProgress?.();
  };
  try {
    const result = await writeEncodedRun(config, ctx, encoded.run);
    return { result, lines: ctx.logger.lines };
  } finally {
    await encoded.done();
  }
}

const byUuid = (list: Row[]) => [...list].sort((a, b) => (String(a.uuid) < String(b.uuid) ? -1 : 1));

test('a replay of a run replaces exactly its rows, keys first; other rows stay', async () => {
  const config = await dest.freshSchema();
  const run = eventRows(interval, 0, 300);
  const other = eventRows(interval, 1000, 50);
  await postgres.write(config, runContext({ model: 'events', interval }), stream(toBatches(other)));

  const first = await byteRun(config, run);
  expect(first.result.details).toMatchObject({ loadStrategy: 'keys-first', rowsReplaced: 0 });
  expect(first.result.rowsLanded).toBe(300);
  expect(first.lines).toContainEqual(expect.stringContaining('Loaded keys first'));

  const replay = await byteRun(config, run.map((r) => ({ ...r, event: 'replayed' })));
  expect(replay.result.details).toMatchObject({ loadStrategy: 'keys-first', rowsReplaced: 300 });
  expect(replay.result.rowsLanded).toBe(300);
  const stored = await readTable(dest.db.url, config.schema, 'events', 'events');
  expect(stored).toHaveLength(350);
  expect(stored.filter((r) => r.event === 'replayed')).toHaveLength(300);
  const viaRows = await dest.freshSchema();
  await postgres.write(viaRows, runContext({ model: 'events', interval }), stream(toBatches([...other, ...run.map((r) => ({ ...r, event: 'replayed' }))])));
  expect(byUuid(stored)).toEqual(byUuid(await readTable(dest.db.url, viaRows.schema, 'events', 'events')));
});

test('a table with text json columns takes the stage load and stores the normalised JSON the row path stores', async () => {
  const rows = eventRows(interval, 0, 20).map((r) => ({ ...r, ...Object.fromEntries(jsonColumns.map((c) => [c, UNNORMALISED])) }));
  const results: Row[][] = [];
  for (const path of ['rows', 'bytes'] as const) {
    const config = await dest.freshSchema();
    // The table as a user may have made it: Outport's columns, json ones as text.
    await postgres.write(config, runContext({ model: 'events', interval }), stream(toBatches(eventRows(interval, 500, 1))));
    const table = `${quote(config.schema)}.events`;
    await dest.sql(`TRUNCATE ${table}`);
    await dest.sql(`ALTER TABLE ${table} ${jsonColumns.map((c) => `ALTER COLUMN ${quote(c)} TYPE text`).join(', ')}`);
    if (path === 'rows') {
      await postgres.write(config, runContext({ model: 'events', interval }), stream(toBatches(rows)));
    } else {
      const { result, lines } = await byteRun(config, rows);
      expect(result.details).toMatchObject({ loadStrategy: 'stage' });
      expect(lines).toContainEqual(expect.stringContaining(`Took the stage load: columns ${jsonColumns.join(', ')} of the table have other types`));
    }
    const { rows: stored } = await dest.sql(`SELECT ${jsonColumns.map(quote).join(', ')} FROM ${table}`);
    expect(stored).toHaveLength(20);
    for (const r of stored) for (const c of jsonColumns) expect(r[c]).toBe('{"a": 2, "b": 1}');
    results.push(byUuid(await readTable(dest.db.url, config.schema, 'events', 'events')));
  }
  expect(results[1]).toEqual(results[0]);
});

test('a run giving a key twice falls back to the stage load, which keeps one row per key', async () => {
  const config = await dest.freshSchema();
  const run = eventRows(interval, 0, 40);
  const { result, lines } = await byteRun(config, [...run, run[7]]);
  expect(result.details).toMatchObject({ loadStrategy: 'stage' });
  expect(lines).toContainEqual(expect.stringContaining('the run gave a key twice'));
  expect(result.rowsLanded).toBe(40);
  expect(await readTable(dest.db.url, config.schema, 'events', 'events')).toHaveLength(40);
});

test('an abort during the COPY of the rows leaves the stored rows of the run\'s keys as they were', async () => {
  const config = await dest.freshSchema();
  const run = eventRows(interval, 0, 2000);
  await byteRun(config, run);
  const before = byUuid(await readTable(dest.db.url, config.schema, 'events', 'events'));
  expect(before).toHaveLength(2000);

  const controller = new AbortController();
  // Progress comes from the rows' COPY, after the DELETE of their stored copies.
  const aborted = byteRun(config, run.map((r) => ({ ...r, event: 'aborted' })), { signal: controller.signal, onProgress: () => controller.abort(new Error('cancelled by the test')) });
  await expect(aborted).rejects.toMatchObject({ name: 'DestinationError', code: 'ABORTED' });
  expect(byUuid(await readTable(dest.db.url, config.schema, 'events', 'events'))).toEqual(before);
  // Nothing left behind: neither the table lock nor the run's lock holds the next run back.
  const again = await byteRun(config, run.map((r) => ({ ...r, event: 'again' })));
  expect(again.result.details).toMatchObject({ loadStrategy: 'keys-first', rowsReplaced: 2000 });
  expect((await readTable(dest.db.url, config.schema, 'events', 'events')).filter((r) => r.event === 'again')).toHaveLength(2000);
});

test('a run finding the table\'s load lock held takes the stage load instead of waiting; overlapping runs at once keep one row per key', async () => {
  const config = await dest.freshSchema();
  await byteRun(config, eventRows(interval, 0, 10));
  const table = `${quote(config.schema)}.events`;
  const holder = new Client(dest.db.url);
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended('outport-load:' || ($1::regclass)::oid::text, 0))`, [table]);
    const blocked = byteRun(config, eventRows(interval, 0, 100));
    // It streams into its stage and then waits for the lock at its merge.
    for (let waiting = 0; !waiting; await new Promise((r) => setTimeout(r, 100))) {
      const { rows } = await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
      waiting = rows[0].n;
    }
    await holder.query('COMMIT');
    const { result, lines } = await blocked;
    expect(result.details).toMatchObject({ loadStrategy: 'stage', rowsReplaced: 10 });
    expect(lines).toContainEqual(expect.stringContaining('Took the stage load: another run is loading into the table'));
  } finally {
    await holder.end();
  }

  const [a, b] = await Promise.all([byteRun(config, eventRows(interval, 0, 3000)), byteRun(config, eventRows(interval, 1500, 3000))]);
  expect([a.result.rowsLanded, b.result.rowsLanded]).toEqual([3000, 3000]);
  const { rows } = await dest.sql(`SELECT count(*)::int AS n, count(DISTINCT (team_id, uuid))::int AS keys FROM ${table}`);
  expect(rows[0]).toEqual({ n: 4500, keys: 4500 });
});
