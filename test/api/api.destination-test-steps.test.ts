/**
 * Issue 16.5: a destination configuration tested before it is saved (`testDestinationConfig`) and a saved one
 * (`testDestination`), reported as named steps, against a real Postgres and real local folders.
 */
import net from 'node:net';
import { Client } from 'pg';
import { startApiHarness, type ApiHarness } from '../support/api';
import { createTestDatabase, testServerUrl } from '../support/pg';

const TEST_CONFIG = `mutation($input: TestDestinationConfigInput!) { testDestinationConfig(input: $input) { ok errorKind message steps { name ok message } } }`;
const WRONG_PASSWORD = 'not-the-password-7f3a';

let h: ApiHarness;
let pg: { host: string; port: number; database: string; user: string; password: string; ssl_mode: string; table_name: string };

beforeAll(async () => {
  h = await startApiHarness();
  const db = await createTestDatabase('steps', false);
  const u = new URL(testServerUrl());
  pg = { host: u.hostname, port: Number(u.port), database: db.name, user: u.username, password: decodeURIComponent(u.password), ssl_mode: 'disable', table_name: 'events_out' };
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const test = async (input: Record<string, unknown>) => (await h.ok(h.a.token, TEST_CONFIG, { input })).testDestinationConfig;

describe('testDestinationConfig', () => {
  it('runs every step of a working Postgres config, stores nothing and leaves no probe behind', async () => {
    const r = await test({ type: 'postgres', config: pg });
    expect(r.ok).toBe(true);
    expect(r.steps.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([
      ['CONNECT', true], ['AUTHENTICATE', true], ['PERMISSIONS', true], ['WRITE_PROBE', true],
    ]);
    expect(r.steps[1].message).toContain(pg.database);
    expect((await h.ds.query(`SELECT count(*)::int AS n FROM destinations`))[0].n).toBe(0);
    const c = new Client({ ...pg, ssl: false });
    await c.connect();
    const left = await c.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'outport_probe_%'`);
    await c.end();
    expect(left.rows).toEqual([]);
  });

  it('names the failing step: a closed port at CONNECT, a wrong password at AUTHENTICATE (never echoed)', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const down = await test({ type: 'postgres', config: { ...pg, host: '127.0.0.1', port: closed } });
    expect(down).toMatchObject({ ok: false, errorKind: 'RETRYABLE' });
    expect(down.steps).toEqual([{ name: 'CONNECT', ok: false, message: expect.stringMatching(new RegExp(`127\\.0\\.0\\.1:${closed}`)) }]);

    const res = await h.gql(h.a.token, TEST_CONFIG, { input: { type: 'postgres', config: { ...pg, password: WRONG_PASSWORD } } });
    const wrong = res.data!.testDestinationConfig;
    expect(wrong).toMatchObject({ ok: false, errorKind: 'CONFIG' });
    expect(wrong.steps.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([['CONNECT', true], ['AUTHENTICATE', false]]);
    expect(wrong.steps[1].message).toMatch(/password/i);
    expect(JSON.stringify(res)).not.toContain(WRONG_PASSWORD);
  });

  it('reports a missing privilege at PERMISSIONS', async () => {
    const r = await test({ type: 'postgres', config: { ...pg, schema: 'no_such_schema' } });
    expect(r.ok).toBe(false);
    expect(r.steps.map((s: { name: string }) => s.name)).toEqual(['CONNECT', 'AUTHENTICATE', 'PERMISSIONS']);
    expect(r.steps[2]).toMatchObject({ ok: false, message: expect.stringContaining('no_such_schema') });
  });

  it('local files: the folder check and a write probe', async () => {
    const r = await test({ type: 'local-files', config: { path: 'probe-here' } });
    expect(r).toMatchObject({ ok: true, steps: [{ name: 'PERMISSIONS', ok: true }, { name: 'WRITE_PROBE', ok: true }] });
  });

  it('a plugin that reports no steps is one CONNECT step, with its own message when it fails', async () => {
    const good = await test({ type: 'vault-sink', config: { endpoint: 'https://sink.example.com/in', apiKey: 'good-key-123' } });
    expect(good).toMatchObject({ ok: true, steps: [{ name: 'CONNECT', ok: true }] });
    const bad = await test({ type: 'vault-sink', config: { endpoint: 'https://sink.example.com/in', apiKey: 'wrong-key-000' } });
    expect(bad).toEqual({ ok: false, errorKind: 'CONFIG', message: 'apiKey was rejected by the endpoint', steps: [{ name: 'CONNECT', ok: false, message: 'apiKey was rejected by the endpoint' }] });
  });

  it('refuses an invalid config as BAD_USER_INPUT naming the field, before connecting', async () => {
    const r = await h.gql(h.a.token, TEST_CONFIG, { input: { type: 'local-files', config: { path: '../other-team' } } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.config.path' });
    const unknownType = await h.gql(h.a.token, TEST_CONFIG, { input: { type: 'nope', config: {} } });
    expect(unknownType.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.type' });
  });

  it('tests unsaved changes of a saved destination, keeping the stored secret when it is sent masked', async () => {
    const { createDestination } = await h.ok(h.a.token, `mutation($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`, { c: pg });
    const r = await test({ type: 'postgres', destinationId: createDestination.id, config: { password: '********', table_name: 'renamed' } });
    expect(r.ok).toBe(true);
    const saved = await h.ok(h.a.token, `mutation($id: ID!) { testDestination(id: $id) { ok steps { name ok } } }`, { id: createDestination.id });
    expect(saved.testDestination.steps.map((s: { name: string }) => s.name)).toEqual(['CONNECT', 'AUTHENTICATE', 'PERMISSIONS', 'WRITE_PROBE']);
    const other = await h.gql(h.b.token, TEST_CONFIG, { input: { type: 'postgres', destinationId: createDestination.id, config: {} } });
    expect(other.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    await h.ok(h.a.token, `mutation($id: ID!) { deleteDestination(id: $id) { id } }`, { id: createDestination.id });
  });

  it('needs the write scope and counts as an expensive field', async () => {
    const read = await h.gql(h.a.readToken, TEST_CONFIG, { input: { type: 'postgres', config: pg } });
    expect(read.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const many = `mutation($input: TestDestinationConfigInput!) { ${[0, 1, 2, 3].map((i) => `t${i}: testDestinationConfig(input: $input) { ok }`).join(' ')} }`;
    const r = await h.gql(h.a.token, many, { input: { type: 'postgres', config: pg } });
    expect(r.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.errors?.[0].message).toMatch(/testDestinationConfig.*OUTPORT_GRAPHQL_MAX_EXPENSIVE_FIELDS/);
  });
});

describe('testDestinationConfig under a network policy', () => {
  let guarded: ApiHarness;
  beforeAll(async () => {
    guarded = await startApiHarness({ env: { OUTPORT_DESTINATION_NETWORKS: 'deny:private' } });
  }, 60_000);
  afterAll(async () => {
    await guarded?.stop();
  });

  it('refuses a host the operator denies, naming the field, without connecting', async () => {
    const r = await guarded.gql(guarded.a.token, TEST_CONFIG, { input: { type: 'postgres', config: pg } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.config.host' });
    expect(r.errors?.[0].message).toContain('OUTPORT_DESTINATION_NETWORKS');
  });
});
