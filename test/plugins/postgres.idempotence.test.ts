/**
 * Exactly-once per run for the Postgres events load (plugins/postgres/load.ts: stage, then delete the run's keys
 * and insert them under a per-table lock), read back from the destination table: retries after a half-finished
 * attempt, overlapping backfills, two exports into one table, concurrent runs of the same keys, and tables the
 * user created without a unique key.
 */
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { Client } from 'pg';
import postgres from '../../plugins/postgres';
import type { PostgresConfig } from '../../plugins/postgres/config';
import { encodeRow } from '../../plugins/postgres/copy';
import { loadRun } from '../../plugins/postgres/load';
import { Sanitizer } from '../../plugins/postgres/sanitize';
import { MODEL_SCHEMAS, type Row } from '../../src/sdk';
import { eventRows } from '../../src/sdk/conformance';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import { destinationDatabase } from '../conformance/fixtures/postgres';
import { destinationFailure as failure, quote } from '../support/pg-destination';

type Dest = Awaited<ReturnType<typeof destinationDatabase>>;
let dest: Dest;

beforeAll(async () => {
  dest = await destinationDatabase('pgidem');
}, 60_000);
afterAll(async () => {
  await dest?.drop();
});

const EVENTS = MODEL_SCHEMAS.events;

async function write(config: PostgresConfig, rows: Row[], opts: Partial<Parameters<typeof runContext>[0]> = {}) {
  const ctx = runContext({ model: 'events', interval: hourInterval(0), ...opts });
  const result = await postgres.write(config, ctx, stream(toBatches(rows)));
  return { result, ctx };
}

/** uuid -> copies stored, for the table the config points at. */
async function copiesByUuid(config: PostgresConfig, table = 'events'): Promise<Map<string, number>> {
  const { rows } = await dest.sql(`SELECT uuid, count(*)::int AS n FROM ${quote(config.schema)}.${quote(table)} GROUP BY uuid`);
  return new Map(rows.map((r) => [r.uuid as string, r.n as number]));
}

function expectExactlyOnce(copies: Map<string, number>, rows: Row[]): void {
  const wanted = new Set(rows.map((r) => r.uuid as string));
  const wrong = [...wanted].filter((u) => copies.get(u) !== 1).map((u) => `${u}: ${copies.get(u) ?? 0} copies`);
  expect(wrong).toEqual([]);
  expect([...copies.keys()].filter((u) => !wanted.has(u))).toEqual([]);
}

/** An events table as a user might create it: the model's columns, no primary key or unique constraint. */
async function userTableWithoutKey(config: PostgresConfig, table: string): Promise<void> {
  const types = { string: 'TEXT', int: 'BIGINT', float: 'DOUBLE PRECISION', bool: 'BOOLEAN', timestamp: 'TIMESTAMPTZ', json: 'JSONB' };
  const cols = EVENTS.columns.map((c) => `${quote(c.name)} ${types[c.type]}`);
  await dest.sql(`CREATE TABLE ${quote(config.schema)}.${quote(table)} (${cols.join(', ')}, note TEXT DEFAULT 'user column')`);
}

describe('retries', () => {
  it('a retry after an attempt that died mid-COPY, and one after an attempt that committed, land each row once', async () => {
    const config = await dest.freshSchema();
    const runId = `run-${randomBytes(4).toString('hex')}`;
    const rows = eventRows(hourInterval(0), 0, 300);
    const controller = new AbortController();
    const ctx = runContext({ model: 'events', interval: hourInterval(0), runId, signal: controller.signal });
    const err = await failure(postgres.write(config, ctx, stream(toBatches(rows), { batches: 3, controller })));
    expect(err.kind).toBe('retryable');
    expect(await copiesByUuid(config)).toEqual(new Map());

    const second = await write(config, rows, { runId, attempt: 2 });
    expect(second.result.rowsLanded).toBe(300);
    // The worker died after this commit, before recording it: the host runs the attempt again.
    const third = await write(config, rows, { runId, attempt: 3 });
    expect(third.result.rowsLanded).toBe(300);
    expect(third.result.details).toMatchObject({ rowsReplaced: 300 });
    expectExactlyOnce(await copiesByUuid(config), rows);
  });
});

describe('overlapping backfills and two exports into one table', () => {
  it('a backfill overlapping earlier runs keeps every key once and leaves rows outside its selection alone', async () => {
    const config = await dest.freshSchema();
    const hourA = eventRows(hourInterval(0), 0, 120);
    const hourB = eventRows(hourInterval(1), 120, 120);
    await write(config, hourA, { interval: hourInterval(0) });
    await write(config, hourB, { interval: hourInterval(1) });
    // A backfill over both hours that selects only some of their rows (late rows included): rows it does not select
    // stay, rows it selects are replaced, never doubled.
    const late = eventRows(hourInterval(1), 500, 30);
    const backfill = [...hourA.slice(60), ...hourB.slice(0, 60), ...late];
    const { result } = await write(config, backfill, { interval: hourInterval(0, 2) });
    expect(result.rowsLanded).toBe(backfill.length);
    expectExactlyOnce(await copiesByUuid(config), [...hourA, ...hourB, ...late]);
  });

  it("two exports writing the same interval at once, then one re-run, never delete or double the other's rows", async () => {
    const config = await dest.freshSchema();
    const all = eventRows(hourInterval(0), 0, 400);
    const a = all.filter((_, i) => i % 2 === 0 || i < 100);
    const b = all.filter((_, i) => i % 2 === 1 || i < 100);
    const [ra, rb] = await Promise.all([
      write(config, a, { exportId: 'export-a' }),
      write(config, b, { exportId: 'export-b' }),
    ]);
    expect([ra.result.rowsLanded, rb.result.rowsLanded]).toEqual([a.length, b.length]);
    expectExactlyOnce(await copiesByUuid(config), all);
    // Export A re-runs the interval with a narrower selection: B's rows, shared or not, stay.
    await write(config, a.slice(0, 50), { exportId: 'export-a' });
    expectExactlyOnce(await copiesByUuid(config), all);
  });
});

describe('concurrent runs of the same keys', () => {
  for (const shape of ['without a unique key', 'with the primary key Outport creates'] as const) {
    it(`four runs merging the same uuids at the same moment leave one copy of each (${shape})`, async () => {
      const config = await dest.freshSchema();
      const own = `${quote(config.schema)}.events`;
      if (shape === 'without a unique key') await userTableWithoutKey(config, 'events');
      else await write(config, []);
      const rows = eventRows(hourInterval(0), 0, 300);
      // Hold every run at its first write to the table until all four are there, so their merges really overlap.
      const locker = new Client(dest.db.url);
      await locker.connect();
      let runs: Promise<{ rowsLanded: number }[]>;
      try {
        await locker.query('BEGIN');
        await locker.query(`LOCK TABLE ${own} IN SHARE MODE`);
        runs = Promise.all(
          [1, 2, 3, 4].map((n) => postgres.write(config, runContext({ model: 'events', interval: hourInterval(0), exportId: `export-${n}` }), stream(toBatches(rows)))),
        );
        runs.catch(() => undefined);
        for (let i = 0; i < 400; i++) {
          const { rows: waiting } = await dest.sql(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'outport' AND wait_event_type = 'Lock'`,
          );
          if (waiting[0].n >= 4) break;
          await new Promise((r) => setTimeout(r, 25));
        }
      } finally {
        await locker.query('ROLLBACK');
        await locker.end();
      }
      expect((await runs).map((r) => r.rowsLanded)).toEqual([300, 300, 300, 300]);
      expectExactlyOnce(await copiesByUuid(config), rows);
    });
  }
});

describe('an existing table without a unique key', () => {
  it('is accepted for events, keeps its extra column, replaces stored duplicates of a key by one row, and says to add an index', async () => {
    const config = await dest.freshSchema();
    await userTableWithoutKey(config, 'events');
    const rows = eventRows(hourInterval(0), 0, 60);
    // What a table without a key may already hold: two copies of one event, and someone else's event.
    const own = `${quote(config.schema)}.events`;
    await dest.sql(`INSERT INTO ${own} (team_id, uuid, event, distinct_id, timestamp, _inserted_at) VALUES
      ($2, $1, 'old copy', 'd', now(), now()), ($2, $1, 'old copy', 'd', now(), now()), ($2, 'not-ours', 'other', 'd', now(), now())`, [rows[5].uuid, rows[5].team_id]);
    const { result, ctx } = await write(config, rows);
    expect(result.rowsLanded).toBe(60);
    expectExactlyOnce(await copiesByUuid(config), [...rows, { uuid: 'not-ours' }]);
    const warnings = ctx.logger.lines.filter((l) => l.startsWith('warn'));
    expect(warnings.join('\n')).toContain(`has no index on ("team_id", "uuid")`);
    expect(warnings.join('\n')).toContain(`CREATE INDEX ON ${quote(config.schema)}."events" ("team_id", "uuid");`);
    expect((await dest.sql(`SELECT DISTINCT note FROM ${own}`)).rows).toEqual([{ note: 'user column' }]);

    // With the suggested (non-unique) index the warning goes, and a retry still lands each row once.
    await dest.sql(/CREATE INDEX ON .*;/.exec(warnings.join('\n'))![0]);
    const again = await write(config, rows);
    expect(again.ctx.logger.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
    expectExactlyOnce(await copiesByUuid(config), [...rows, { uuid: 'not-ours' }]);
  });
});

describe('privileges', () => {
  it('testConnection asks for DELETE on an existing events table (runs replace earlier copies of their keys)', async () => {
    const config = await dest.freshSchema();
    await write(config, eventRows(hourInterval(0), 0, 3));
    const role = `outport_nodelete_${randomBytes(3).toString('hex')}`;
    await dest.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    try {
      await dest.sql(`GRANT USAGE, CREATE ON SCHEMA ${quote(config.schema)} TO ${role}`);
      await dest.sql(`GRANT INSERT, UPDATE, SELECT ON ${quote(config.schema)}.events TO ${role}`);
      const limited = { ...config, user: role, password: 'pw' };
      const err = await failure(postgres.testConnection(limited, runContext({ model: 'events', interval: hourInterval(0) })));
      expect([err.kind, err.code]).toEqual(['permanent', 'PERMISSION_DENIED']);
      expect(err.message).toContain('DELETE');
      await dest.sql(`GRANT DELETE ON ${quote(config.schema)}.events TO ${role}`);
      await postgres.testConnection(limited, runContext({ model: 'events', interval: hourInterval(0) }));
      expect((await write(limited, eventRows(hourInterval(0), 0, 3))).result.rowsLanded).toBe(3);
    } finally {
      await dest.sql(`DROP OWNED BY ${role}`);
      await dest.sql(`DROP ROLE ${role}`);
    }
  });
});

describe('loadRun with several COPY streams', () => {
  it('lands disjoint slices copied on separate sessions as one transaction, and nothing when one stream fails', async () => {
    const config = await dest.freshSchema();
    const rows = eventRows(hourInterval(0), 0, 200);
    const sanitizer = new Sanitizer();
    const slice = (k: number) => async (copy: Writable) => {
      for (const row of rows.filter((_, i) => i % 3 === k)) copy.write(encodeRow(row, EVENTS.columns, sanitizer));
      copy.end();
    };
    const failing = async (copy: Writable) => {
      copy.write(encodeRow(rows[0], EVENTS.columns, sanitizer));
      throw new Error('the source failed mid-stream');
    };
    const client = new Client(dest.db.url);
    await client.connect();
    const openSession = async () => {
      const c = new Client(dest.db.url);
      await c.connect();
      return c;
    };
    const target = { schema: config.schema, table: 'events', stage: `stage_${randomBytes(3).toString('hex')}`, model: EVENTS, openSession };
    try {
      await userTableWithoutKey(config, 'events');
      await expect(loadRun(client, { ...target, inputs: [slice(0), failing, slice(2)], signal: new AbortController().signal })).rejects.toThrow(
        'the source failed mid-stream',
      );
      await client.query('ROLLBACK');
      expect(await copiesByUuid(config)).toEqual(new Map());

      const loaded = await loadRun(client, { ...target, inputs: [slice(0), slice(1), slice(2)], signal: new AbortController().signal });
      expect([loaded.rowsStaged, loaded.rowsLanded]).toEqual([200, 200]);
      expectExactlyOnce(await copiesByUuid(config), rows);
    } finally {
      await client.end();
    }
  });
});

describe('runs creating one new table at once', () => {
  it('all go on, whichever session loses the CREATE race (unique violation, type or relation already exists)', async () => {
    const { ensureTable } = await import('../../plugins/postgres/ddl');
    const clients = await Promise.all([0, 1, 2, 3].map(async () => {
      const c = new Client(dest.db.url);
      await c.connect();
      return c;
    }));
    try {
      for (let round = 0; round < 10; round++) {
        const config = await dest.freshSchema();
        // Four sessions issue the CREATE at the same moment: one creates, the others must find the table there.
        await Promise.all(clients.map((c) => ensureTable(c, config.schema, 'events', EVENTS)));
        const { rows } = await dest.sql(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename = 'events'`, [config.schema]);
        expect(rows[0].n).toBe(1);
      }
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
