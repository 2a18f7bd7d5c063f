/** Focused tests of the Postgres destination against the suite's embedded Postgres server. */
import { randomBytes } from 'node:crypto';
import postgres from '../../plugins/postgres';
import type { PostgresConfig } from '../../plugins/postgres/config';
import { runLockKey, stageTableName } from '../../plugins/postgres/stage';
import { MODEL_SCHEMAS, type RecordBatch, type Row, type SchemaMode } from '../../src/sdk';
import { eventRows, personRow } from '../../src/sdk/conformance';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import { destinationDatabase } from '../conformance/fixtures/postgres';
import { destinationFailure as failure, quote, readTable } from '../support/pg-destination';

type Dest = Awaited<ReturnType<typeof destinationDatabase>>;
let dest: Dest;

beforeAll(async () => {
  dest = await destinationDatabase('pgplug');
}, 60_000);
afterAll(async () => {
  await dest?.drop();
});

const interval = hourInterval(0);

async function write(config: PostgresConfig, rows: Row[], opts: Partial<Parameters<typeof runContext>[0]> & { schemaMode?: SchemaMode } = {}) {
  const ctx = Object.assign(runContext({ model: 'events', interval, ...opts }), opts.schemaMode ? { schemaMode: opts.schemaMode } : {});
  const result = await postgres.write(config, ctx, stream(toBatches(rows)));
  return { result, ctx };
}

async function stageTables(schema: string): Promise<string[]> {
  const { rows } = await dest.sql(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname LIKE '\\_outport\\_stage\\_%'`,
    [schema],
  );
  return rows.map((r) => r.relname);
}

describe('existing tables', () => {
  it('adds the columns a user-made table lacks; FROZEN names them and the ALTER TABLE that adds them instead', async () => {
    const config = await dest.freshSchema();
    const events = `${quote(config.schema)}.events`;
    await dest.sql(`CREATE TABLE ${events} (team_id BIGINT, uuid TEXT, event TEXT, distinct_id TEXT, person_id TEXT,
      "timestamp" TIMESTAMPTZ, created_at TIMESTAMPTZ, _inserted_at TIMESTAMPTZ, properties JSONB, person_properties JSONB,
      elements_chain TEXT, PRIMARY KEY (team_id, uuid))`);
    const err = await failure(write(config, eventRows(interval, 0, 5), { schemaMode: 'FROZEN' }));
    expect(err.kind).toBe('config');
    expect(err.code).toBe('SCHEMA_FROZEN');
    expect(err.message).toContain('lacks column(s) set, set_once');
    // testConnection knows no export: a table a run would evolve is fine.
    await postgres.testConnection(config, runContext({ model: 'events', interval }));

    // The suggested statement is the fix.
    await dest.sql(/ALTER TABLE .*;/.exec(err.message)![0]);
    const { result } = await write(config, eventRows(interval, 0, 5), { schemaMode: 'FROZEN' });
    expect(result.rowsLanded).toBe(5);
    expect(await stageTables(config.schema)).toEqual([]);

    // By default (EVOLVE) a run adds what is missing itself.
    const evolving = await dest.freshSchema();
    await dest.sql(`CREATE TABLE ${quote(evolving.schema)}.events (team_id BIGINT, uuid TEXT, event TEXT, distinct_id TEXT, person_id TEXT,
      "timestamp" TIMESTAMPTZ, created_at TIMESTAMPTZ, _inserted_at TIMESTAMPTZ, properties JSONB, person_properties JSONB,
      elements_chain TEXT, PRIMARY KEY (team_id, uuid))`);
    const evolved = await write(evolving, eventRows(interval, 0, 5));
    expect(evolved.result.rowsLanded).toBe(5);
    expect(evolved.ctx.logger.lines.join('\n')).toContain('added column(s) set, set_once');
  });

  it('refuses a table without a unique constraint on the key and gives the exact ALTER TABLE to run', async () => {
    const config = await dest.freshSchema();
    const cols = MODEL_SCHEMAS.persons.columns.map((c) => `${quote(c.name)} ${c.type === 'json' ? 'JSONB' : c.type === 'timestamp' ? 'TIMESTAMPTZ' : c.type === 'int' ? 'BIGINT' : c.type === 'bool' ? 'BOOLEAN' : 'TEXT'}`);
    await dest.sql(`CREATE TABLE ${quote(config.schema)}.persons (${cols.join(', ')})`);
    const rows = [1, 2, 3].map((key) => personRow(interval, { key, personVersion: 1, tag: 't' }));
    const err = await failure(write(config, rows, { model: 'persons' }));
    expect(err.kind).toBe('permanent');
    expect(err.code).toBe('KEY_CONSTRAINT_MISSING');
    const alter = /ALTER TABLE .*;/.exec(err.message)![0];
    expect(alter).toBe(`ALTER TABLE ${quote(config.schema)}."persons" ADD UNIQUE ("team_id", "distinct_id");`);
    await dest.sql(alter);
    expect((await write(config, rows, { model: 'persons' })).result.rowsLanded).toBe(3);
  });
});

describe('identifiers', () => {
  it('quotes schema and table names holding quotes, spaces, unicode and SQL', async () => {
    const config = await dest.freshSchema(`we"ird'; DROP SCHEMA public; -- ü 🎉`);
    const table = `t"able ✓ ${randomBytes(2).toString('hex')}`;
    const rows = eventRows(interval, 0, 30);
    const { result } = await write({ ...config, table_name: table }, rows);
    expect(result.rowsLanded).toBe(30);
    expect((await readTable(dest.db.url, config.schema, table, 'events')).length).toBe(30);
    await postgres.testConnection({ ...config, table_name: table }, runContext({ model: 'events', interval }));
  });

  it('accepts 63-byte names and rejects 64-byte ones with a clear message (no silent truncation)', async () => {
    const base = { host: 'h', database: 'd', user: 'u', password: 'p' };
    const name63 = 'ü'.repeat(31) + 'x'; // 63 bytes, 32 characters
    expect(Buffer.byteLength(name63)).toBe(63);
    expect(postgres.configSchema.safeParse({ ...base, table_name: name63 }).success).toBe(true);
    const r = postgres.configSchema.safeParse({ ...base, table_name: name63 + 'y' });
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.path[0] === 'table_name')!;
    expect(issue.message).toMatch(/table_name is 64 bytes .* limited to 63 bytes/);

    const config = await dest.freshSchema();
    const { result } = await write({ ...config, table_name: name63 }, eventRows(interval, 0, 3));
    expect(result.rowsLanded).toBe(3);
    const { rows } = await dest.sql('SELECT relname FROM pg_class WHERE relname = $1', [name63]);
    expect(rows).toHaveLength(1);
  });
});

describe('stage and abort', () => {
  it("drops a killed attempt's leftover stage and lands only this attempt's rows", async () => {
    const config = await dest.freshSchema();
    const runId = `run-${randomBytes(4).toString('hex')}`;
    const stage = `${quote(config.schema)}.${quote(stageTableName(runId))}`;
    // What a killed attempt leaves: a stage with other columns and rows that must not land.
    await dest.sql(`CREATE UNLOGGED TABLE ${stage} (junk TEXT)`);
    await dest.sql(`INSERT INTO ${stage} VALUES ('left over')`);
    const rows = eventRows(interval, 0, 50);
    const { result, ctx } = await write(config, rows, { runId, attempt: 2 });
    expect(result.rowsLanded).toBe(50);
    expect(ctx.logger.lines.some((l) => l.includes('left by an earlier attempt'))).toBe(true);
    expect(await stageTables(config.schema)).toEqual([]);
    expect(await readTable(dest.db.url, config.schema, 'events', 'events')).toHaveLength(50);
  });

  it('an attempt whose predecessor still holds the run lock fails as retryable and touches nothing', async () => {
    const config = await dest.freshSchema();
    const runId = `run-${randomBytes(4).toString('hex')}`;
    const { Client } = await import('pg');
    const zombie = new Client(dest.db.url);
    await zombie.connect();
    try {
      await zombie.query('SELECT pg_advisory_lock($1::bigint)', [runLockKey(runId)]);
      await zombie.query(`CREATE UNLOGGED TABLE ${quote(config.schema)}.${quote(stageTableName(runId))} (busy TEXT)`);
      const err = await failure(write(config, eventRows(interval, 0, 10), { runId, attempt: 2 }));
      expect([err.kind, err.code]).toEqual(['retryable', 'RUN_LOCKED']);
      expect(await readTable(dest.db.url, config.schema, 'events', 'events')).toEqual([]);
      expect(await stageTables(config.schema)).toEqual([stageTableName(runId)]); // the zombie's stage is left alone
    } finally {
      await zombie.end();
    }
    expect((await write(config, eventRows(interval, 0, 10), { runId, attempt: 3 })).result.rowsLanded).toBe(10);
  });

  it('an abort during COPY leaves the final table as before and drops the stage', async () => {
    const config = await dest.freshSchema();
    await write(config, eventRows(interval, 0, 20));
    const before = await readTable(dest.db.url, config.schema, 'events', 'events');
    const controller = new AbortController();
    async function* batches(): AsyncGenerator<RecordBatch> {
      for (let i = 0; ; i++) {
        if (i === 5) controller.abort(new Error('cancelled by the user'));
        const rows = eventRows(interval, 100 + i * 50, 50);
        yield { rows, sizeBytes: 0 };
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const ctx = runContext({ model: 'events', interval, signal: controller.signal });
    const err = await failure(postgres.write(config, ctx, batches()));
    expect(err.code).toBe('ABORTED');
    expect(await readTable(dest.db.url, config.schema, 'events', 'events')).toEqual(before);
    expect(await stageTables(config.schema)).toEqual([]);
  });

  it('an abort while the merge waits on a lock cancels it, rolls back and drops the stage', async () => {
    const config = await dest.freshSchema();
    await write(config, eventRows(interval, 0, 20));
    const before = await readTable(dest.db.url, config.schema, 'events', 'events');
    const { Client } = await import('pg');
    const locker = new Client(dest.db.url);
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${quote(config.schema)}.events IN EXCLUSIVE MODE`);
      const controller = new AbortController();
      const ctx = runContext({ model: 'events', interval, signal: controller.signal });
      const pending = failure(postgres.write(config, ctx, stream(toBatches(eventRows(interval, 20, 40)))));
      // Wait until the merge is blocked on our lock, then abort.
      for (let i = 0; i < 200; i++) {
        const { rows } = await dest.sql(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'outport' AND wait_event_type = 'Lock'`,
        );
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      controller.abort(new Error('cancelled by the user'));
      const err = await pending;
      expect(err.code).toBe('ABORTED');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(await readTable(dest.db.url, config.schema, 'events', 'events')).toEqual(before);
    expect(await stageTables(config.schema)).toEqual([]);
  });
});

describe('values Postgres cannot store', () => {
  it('replaces NUL and lone surrogates, stores unusable JSON as strings, and logs the counts', async () => {
    const config = await dest.freshSchema();
    const [row] = eventRows(interval, 1, 1);
    const deep = '['.repeat(1001) + ']'.repeat(1001);
    const rows: Row[] = [
      { ...row, uuid: 'a', event: 'nul\u0000 and lone \uD800 surrogate', properties: '{"k\\u0000":"v\\u0000","pair":"\\ud83c\\udf89","lone":"\\ud800x","low":"\\udc00","esc":"\\\\u0000"}' },
      { ...row, uuid: 'b', properties: '{not json', person_properties: deep, set: '[1e999999]', set_once: '[1e300, 0.000001]' },
      { ...row, uuid: 'c', elements_chain: 'tab\there\nnewline \\N backslash-N \\. end "q" \'s\' 🎉 \u202Ertl' },
    ];
    const { result, ctx } = await write(config, rows);
    expect(result.rowsLanded).toBe(3);
    const back = new Map((await readTable(dest.db.url, config.schema, 'events', 'events')).map((r) => [r.uuid, r]));
    expect(back.get('a')!.event).toBe('nul\uFFFD and lone \uFFFD surrogate');
    expect(JSON.parse(back.get('a')!.properties as string)).toEqual({ 'k\uFFFD': 'v\uFFFD', pair: '🎉', lone: '\uFFFDx', low: '\uFFFD', esc: '\\u0000' });
    expect(JSON.parse(back.get('b')!.properties as string)).toBe('{not json');
    expect(JSON.parse(back.get('b')!.person_properties as string)).toBe(deep);
    expect(JSON.parse(back.get('b')!.set as string)).toBe('[1e999999]');
    expect(JSON.parse(back.get('b')!.set_once as string)).toEqual([1e300, 0.000001]);
    expect(back.get('c')!.elements_chain).toBe(rows[2].elements_chain);

    // Reported to the host per column and rule, counted in values; the host puts them in the run's log.
    expect(result.replacements?.map(({ column, rule, count }) => ({ column, rule, count }))).toEqual([
      { column: 'properties', rule: 'invalid_json_as_string', count: 1 },
      { column: 'set', rule: 'json_number_out_of_range_as_string', count: 1 },
      { column: 'person_properties', rule: 'json_too_deep_as_string', count: 1 },
      { column: 'event', rule: 'lone_surrogate', count: 1 },
      { column: 'properties', rule: 'lone_surrogate', count: 1 },
      { column: 'event', rule: 'nul', count: 1 },
      { column: 'properties', rule: 'nul', count: 1 },
    ]);
    expect(ctx.logger.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
  });

  it('reports no replacement when nothing was replaced', async () => {
    const config = await dest.freshSchema();
    const rows = eventRows(interval, 1, 2); // rows 1 and 2 carry no NUL
    const { ctx, result } = await write(config, rows);
    expect(result.replacements).toEqual([]);
    expect(ctx.logger.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
  });
});

describe('connection errors', () => {
  it('a wrong password is a config error; a missing schema is a config error', async () => {
    const config = await dest.freshSchema();
    const ctx = runContext({ model: 'events', interval });
    const wrong = await failure(postgres.testConnection({ ...config, password: 'nope' }, ctx));
    expect(wrong.kind).toBe('config');
    expect(wrong.message).toMatch(/password/i);
    const noSchema = await failure(write({ ...config, schema: 'no such schema' }, eventRows(interval, 0, 2)));
    expect([noSchema.kind, noSchema.code]).toEqual(['config', 'SCHEMA_MISSING']);
  });

  it("ssl_mode 'require' against a server without TLS says so clearly (config)", async () => {
    const config = await dest.freshSchema();
    const err = await failure(postgres.testConnection({ ...config, ssl_mode: 'require' }, runContext({ model: 'events', interval })));
    expect([err.kind, err.code]).toEqual(['config', 'SSL_NOT_SUPPORTED']);
    expect(err.message).toMatch(/does not accept TLS/);
  });

  it('a role without CREATE on the schema gets a permanent error with the GRANT to run', async () => {
    const config = await dest.freshSchema();
    const role = `outport_limited_${randomBytes(3).toString('hex')}`;
    await dest.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    try {
      await dest.sql(`GRANT USAGE ON SCHEMA ${quote(config.schema)} TO ${role}`);
      const err = await failure(postgres.testConnection({ ...config, user: role, password: 'pw' }, runContext({ model: 'events', interval })));
      expect([err.kind, err.code]).toEqual(['permanent', 'PERMISSION_DENIED']);
      expect(err.message).toContain(`GRANT USAGE, CREATE ON SCHEMA ${quote(config.schema)} TO "${role}";`);
    } finally {
      await dest.sql(`DROP OWNED BY ${role}`);
      await dest.sql(`DROP ROLE ${role}`);
    }
  });
});

describe('reconciliation', () => {
  it('counts distinct staged keys present after the merge (duplicates in a run count once)', async () => {
    const config = await dest.freshSchema();
    const p = (key: number, v: number) => personRow(interval, { key, personVersion: v, tag: `v${v}` });
    const { result } = await write(config, [p(1, 1), p(1, 3), p(1, 2), p(2, 1)], { model: 'persons' });
    expect(result.rowsLanded).toBe(2);
    const back = await readTable(dest.db.url, config.schema, 'persons', 'persons');
    expect(back.find((r) => r.person_version === 3)).toBeDefined();
    expect(back).toHaveLength(2);
  });
});
