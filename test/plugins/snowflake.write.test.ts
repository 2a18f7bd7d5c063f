/** The Snowflake plugin against the fake Snowflake service: retries, clean-up, error classification, key-pair auth. */
import { generateKeyPairSync } from 'node:crypto';
import { isDestinationError, type DestinationError, type Row } from '../../src/sdk';
import { eventRows, personRow } from '../../src/sdk/conformance';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import plugin, { createSnowflakeDestination, stageTableName } from '../../plugins/snowflake';
import type { SnowflakeConfig } from '../../plugins/snowflake/config';
import type { FakeSnowflake } from '../fakes/snowflake/server';
import { closedPort, freshConfig, readRows, startFake } from '../conformance/fixtures/snowflake';

let fake: FakeSnowflake;
beforeAll(async () => {
  fake = await startFake();
}, 60_000);
afterEach(() => fake.clearInjections());
afterAll(async () => {
  await fake?.stop();
});

const interval = hourInterval(0);

function write(config: SnowflakeConfig, rows: Row[], opts: { runId?: string; attempt?: number; model?: 'events' | 'persons' } = {}, p = plugin) {
  const ctx = runContext({ model: opts.model ?? 'events', interval, runId: opts.runId, attempt: opts.attempt });
  return p.write(config, ctx, stream(toBatches(rows)));
}

async function failure(fn: () => Promise<unknown>): Promise<DestinationError> {
  try {
    await fn();
  } catch (err) {
    if (!isDestinationError(err)) throw new Error(`expected a DestinationError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected a failure, but it succeeded');
}

async function leftovers(config: SnowflakeConfig) {
  return { stageFiles: fake.stageFiles(), tables: await fake.listTables('ANALYTICS', config.schema) };
}

const keyOf = (r: Row) => `${r.team_id}/${r.uuid}`;

describe('Snowflake plugin', () => {
  it('a failed attempt leaves no stage files or staging table; retries land every row exactly once', async () => {
    const config = await freshConfig(fake);
    const rows = eventRows(interval, 0, 40);
    fake.inject({ when: /^MERGE/, then: { fault: { code: '000630', message: 'Statement reached its statement or warehouse timeout of 600 second(s) and was canceled.', sqlState: '57014' } } });
    const err = await failure(() => write(config, rows, { runId: 'run-a', attempt: 1 }));
    expect({ kind: err.kind, code: err.code }).toEqual({ kind: 'retryable', code: 'SNOWFLAKE_000630' });
    expect(await leftovers(config)).toEqual({ stageFiles: [], tables: ['EVENTS'] });
    expect(await readRows(fake, config, 'events')).toEqual([]);

    const second = await write(config, rows, { runId: 'run-a', attempt: 2 });
    const third = await write(config, rows, { runId: 'run-a', attempt: 3 });
    const other = await write(config, rows.slice(0, 10), { runId: 'run-b' });
    expect([second.rowsLanded, third.rowsLanded, other.rowsLanded]).toEqual([40, 40, 10]);
    const back = await readRows(fake, config, 'events');
    expect(back.map(keyOf).sort()).toEqual(rows.map(keyOf).sort());
    expect(await leftovers(config)).toEqual({ stageFiles: [], tables: ['EVENTS'] });
  });

  it('stages many part files when rows exceed the part size, and loads them all', async () => {
    const config = await freshConfig(fake);
    const small = createSnowflakeDestination({ maxPartBytes: 64 * 1024 });
    const rows = eventRows(interval, 100, 60);
    const before = fake.statements.length;
    const result = await write(config, rows, {}, small);
    const puts = fake.statements.slice(before).filter((s) => s.startsWith('PUT '));
    expect(puts.length).toBeGreaterThan(2);
    expect(result.rowsLanded).toBe(60);
    expect((await readRows(fake, config, 'events')).length).toBe(60);
  });

  it('dedupes keys repeated inside one run, and persons merge keeps the newer version', async () => {
    const config = await freshConfig(fake);
    const rows = eventRows(interval, 0, 5);
    const result = await write(config, [...rows, rows[0], rows[1]]);
    expect(result.rowsLanded).toBe(5);
    expect((await readRows(fake, config, 'events')).length).toBe(5);

    const v2 = personRow(interval, { key: 1, personVersion: 2, tag: 'new' });
    const v1 = personRow(interval, { key: 1, personVersion: 1, tag: 'old' });
    await write(config, [v2], { model: 'persons' });
    await write(config, [v1], { model: 'persons' });
    const people = await readRows(fake, config, 'persons');
    expect(people.map((p) => p.person_version)).toEqual([2]);
  });

  it('strings with NUL next to the fake\'s escape character round-trip unchanged', async () => {
    const config = await freshConfig(fake);
    const tricky = ['\uE000', '\uE0000', '\uE000E', '\u0000\uE000\u0000', 'a\uE000\u0000E0'];
    const rows: Row[] = eventRows(interval, 0, tricky.length).map((r, i) => ({ ...r, event: tricky[i], elements_chain: tricky[tricky.length - 1 - i] }));
    await write(config, rows);
    const back = new Map((await readRows(fake, config, 'events')).map((r) => [r.uuid, r]));
    expect(rows.map((r) => [back.get(r.uuid)?.event, back.get(r.uuid)?.elements_chain])).toEqual(rows.map((r) => [r.event, r.elements_chain]));
  });

  it('writes to a table whose name needs quoting', async () => {
    const config = await freshConfig(fake, { table_name: 'Odd "name" 🚀 table' });
    const rows = eventRows(interval, 0, 3);
    expect((await write(config, rows)).rowsLanded).toBe(3);
    expect(await fake.listTables('ANALYTICS', config.schema)).toEqual(['Odd "name" 🚀 table']);
  });

  it('a wrong password is a config error that names the setting', async () => {
    const config = { ...(await freshConfig(fake)), password: 'nope' };
    for (const fn of [() => plugin.testConnection(config, { signal: new AbortController().signal, logger: console }), () => write(config, eventRows(interval, 0, 2))]) {
      const err = await failure(fn);
      expect(err.kind).toBe('config');
      expect(err.code).toBe('SNOWFLAKE_390100');
      expect(err.message).toMatch(/Incorrect username or password: check `user` and `password`/);
    }
  });

  it('missing schema, missing warehouse and a suspended warehouse are config errors', async () => {
    const config = await freshConfig(fake);
    const missingSchema = await failure(() => write({ ...config, schema: 'NOPE' }, eventRows(interval, 0, 2)));
    expect([missingSchema.kind, missingSchema.code]).toEqual(['config', 'SNOWFLAKE_002003']);
    expect(missingSchema.message).toMatch(/does not exist or not authorized/);

    const noWarehouse = await failure(() => plugin.testConnection({ ...config, warehouse: 'NOPE_WH' }, { signal: new AbortController().signal, logger: console }));
    expect([noWarehouse.kind, noWarehouse.code]).toEqual(['config', 'WAREHOUSE_MISSING']);

    fake.setWarehouseState('COMPUTE_WH', 'SUSPENDED');
    try {
      const suspended = await failure(() => write(config, eventRows(interval, 0, 2)));
      expect([suspended.kind, suspended.code]).toEqual(['config', 'SNOWFLAKE_000608']);
      expect(await leftovers(config)).toEqual({ stageFiles: [], tables: ['EVENTS'] });
    } finally {
      fake.setWarehouseState('COMPUTE_WH', 'STARTED');
    }
  });

  it('a server that is down, or drops the login, is retryable', async () => {
    const config = await freshConfig(fake);
    const port = await closedPort();
    const down = await failure(() => write({ ...config, access_url: `http://127.0.0.1:${port}` }, eventRows(interval, 0, 2)));
    expect(down.kind).toBe('retryable');

    fake.inject({ when: 'login', times: 5, then: { drop: true } });
    const dropped = await failure(() => write(config, eventRows(interval, 0, 2)));
    expect(dropped.kind).toBe('retryable');
    fake.clearInjections();

    fake.inject({ when: 'login', times: 5, then: { status: 503 } });
    const unavailable = await failure(() => write(config, eventRows(interval, 0, 2)));
    expect([unavailable.kind, unavailable.code]).toEqual(['retryable', 'HTTP_503']);
  }, 60_000);

  it('a transient 5xx on a statement is retried by the driver and the run completes', async () => {
    const config = await freshConfig(fake);
    fake.inject({ when: /^COPY INTO/, then: { status: 503 } });
    const result = await write(config, eventRows(interval, 0, 7));
    expect(result.rowsLanded).toBe(7);
  }, 60_000);

  it('key-pair authentication (encrypted PKCS#8 key) works; a key the user does not have is a config error', async () => {
    const passphrase = 'key pass';
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
    });
    fake.addUser({ name: 'KEYPAIR_USER', publicKeyPem: publicKey });
    const base = await freshConfig(fake);
    const config: SnowflakeConfig = { ...base, user: 'keypair_user', password: undefined, private_key: privateKey, private_key_passphrase: passphrase };
    expect(plugin.configSchema.safeParse(config).success).toBe(true);
    await plugin.testConnection(config, { signal: new AbortController().signal, logger: console });
    expect((await write(config, eventRows(interval, 0, 4))).rowsLanded).toBe(4);

    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const err = await failure(() => write({ ...config, private_key: other.privateKey, private_key_passphrase: undefined }, eventRows(interval, 0, 1)));
    expect([err.kind, err.code]).toEqual(['config', 'SNOWFLAKE_390144']);
  }, 60_000);

  it('names the staging table per run, deterministically', () => {
    expect(stageTableName({ runId: 'r1', model: 'events' })).toBe(stageTableName({ runId: 'r1', model: 'events' }));
    expect(stageTableName({ runId: 'r1', model: 'events' })).not.toBe(stageTableName({ runId: 'r2', model: 'events' }));
    expect(stageTableName({ runId: 'r1', model: 'events' })).toMatch(/^OUTPORT_STAGE_EVENTS_[0-9A-F]{16}$/);
  });
});
