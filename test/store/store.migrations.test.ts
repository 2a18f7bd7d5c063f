import { Client } from 'pg';
import { createTestDatabase } from '../support/pg';

describe('metadata store migrations', () => {
  let c: Client;
  beforeAll(async () => {
    const db = await createTestDatabase('mig');
    c = new Client(db.url);
    await c.connect();
  });
  afterAll(() => c.end());

  it('creates every table and graphile-worker schema', async () => {
    const { rows } = await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['api_tokens', 'backfills', 'batch_exports', 'destinations', 'log_entries', 'runs', 'teams', 'migrations']),
    );
    const gw = await c.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = 'graphile_worker'`);
    expect(gw.rowCount).toBe(1);
  });

  it('refuses a second scheduled run for the same export interval', async () => {
    const team = await c.query(`INSERT INTO teams (name) VALUES ('t') RETURNING id`);
    const dest = await c.query(`INSERT INTO destinations (team_id, name, type) VALUES ($1, 'd', 'local-files') RETURNING id`, [team.rows[0].id]);
    const exp = await c.query(
      `INSERT INTO batch_exports (team_id, name, destination_id, model, interval) VALUES ($1, 'e', $2, 'events', 'hour') RETURNING id`,
      [team.rows[0].id, dest.rows[0].id],
    );
    const insert = () =>
      c.query(
        `INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status) VALUES ($1, $2, '2026-01-01T00:00Z', '2026-01-01T01:00Z', 'Starting') ON CONFLICT DO NOTHING`,
        [team.rows[0].id, exp.rows[0].id],
      );
    expect((await insert()).rowCount).toBe(1);
    expect((await insert()).rowCount).toBe(0);
  });
});

describe('migrating one empty store from several processes at once', () => {
  it('succeeds in every process and leaves one schema', async () => {
    const { migrateMetadataStore } = await import('../../src/store/migrate');
    const db = await createTestDatabase('migrace', false);
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => migrateMetadataStore(db.url)));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const c = new Client(db.url);
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM migrations`);
      const { MIGRATIONS } = await import('../../src/store/data-source');
      expect(rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      await c.end();
    }
  }, 60_000);
});
