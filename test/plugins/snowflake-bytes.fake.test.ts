/**
 * The fake Snowflake answers a long statement as Snowflake does ("in progress" and a result URL the driver polls),
 * so a statement longer than the driver's request timeout (the plugin sets 60 s; large byte-path COPYs and MERGEs
 * take that long on the fake) is neither cut nor sent again and run twice.
 */
import { startFakeSnowflake, type FakeSnowflake } from '../fakes/snowflake/server';
import { connectionOptions } from '../../plugins/snowflake/connection';
import { FAKE_PASSWORD, FAKE_USER, freshConfig } from '../conformance/fixtures/snowflake';

let fake: FakeSnowflake;
beforeAll(async () => {
  const pgUrl = process.env.OUTPORT_TEST_PG_URL;
  if (!pgUrl) throw new Error('OUTPORT_TEST_PG_URL is not set: run the tests with `npm test` (jest globalSetup starts Postgres)');
  fake = await startFakeSnowflake({ pgUrl, users: [{ name: FAKE_USER, password: FAKE_PASSWORD }], databases: { ANALYTICS: [] }, warehouses: ['COMPUTE_WH'], inProgressAfterMs: 200 });
}, 60_000);
afterAll(() => fake?.stop());

/** A driver connection whose requests time out after `timeoutMs` (the plugin's is 60 s). */
async function connect(timeoutMs: number): Promise<{ query(sql: string): Promise<unknown[]>; close(): Promise<void> }> {
  const sf = await import('snowflake-sdk');
  sf.configure({ logLevel: 'OFF', additionalLogToConsole: false });
  const conn = sf.createConnection({ ...connectionOptions(await freshConfig(fake)), timeout: timeoutMs });
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return {
    query: (sqlText) => new Promise((resolve, reject) => conn.execute({ sqlText, complete: (err, _s, rows) => (err ? reject(err) : resolve(rows ?? [])) })),
    close: () => new Promise((resolve) => conn.destroy(() => resolve())),
  };
}

it('a statement longer than the driver\'s request timeout returns its result (or its error) through polling, run once', async () => {
  const session = await connect(1_000);
  try {
    const before = fake.statements.length;
    expect(await session.query('SELECT 42 AS "ANSWER" FROM pg_sleep(2.5)')).toEqual([{ ANSWER: 42 }]);
    await expect(session.query('SELECT 1 / (SELECT 0 FROM pg_sleep(2)) AS "X"')).rejects.toMatchObject({ message: expect.stringMatching(/division by zero/) });
    expect(fake.statements.slice(before)).toEqual(['SELECT 42 AS "ANSWER" FROM pg_sleep(2.5)', 'SELECT 1 / (SELECT 0 FROM pg_sleep(2)) AS "X"']);
  } finally {
    await session.close();
  }
}, 60_000);

it('concurrent CREATE TABLE IF NOT EXISTS of one table all succeed, as on Snowflake (Postgres underneath loses catalog races)', async () => {
  const sessions = await Promise.all(Array.from({ length: 6 }, () => connect(60_000)));
  try {
    const config = await freshConfig(fake);
    for (let round = 0; round < 12; round++) {
      const table = `"${config.database}"."${config.schema}"."RACE_${round}"`;
      const results = await Promise.allSettled(sessions.map((s) => s.query(`CREATE TABLE IF NOT EXISTS ${table} ("ID" VARCHAR)`)));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
}, 120_000);

it('concurrent ALTER TABLE … ADD COLUMN IF NOT EXISTS of one column all succeed', async () => {
  const sessions = await Promise.all(Array.from({ length: 6 }, () => connect(60_000)));
  try {
    const config = await freshConfig(fake);
    const table = `"${config.database}"."${config.schema}"."WIDENED"`;
    await sessions[0].query(`CREATE TABLE IF NOT EXISTS ${table} ("ID" VARCHAR)`);
    for (let round = 0; round < 12; round++) {
      const results = await Promise.allSettled(sessions.map((s) => s.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS "C${round}" VARCHAR`)));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
}, 120_000);
