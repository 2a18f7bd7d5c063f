/**
 * Reconciliation of persons runs in every merging destination: a run's row counts as landed only when the
 * destination holds that row's versions or newer ones (issue 11, defect 3). A stored row at an older version, even
 * one only older by `_inserted_at` (a same-version rewrite), means the run's content did not land.
 *
 * Each plugin's counting statement runs on the suite's Postgres (the engine behind the Redshift stand-in and the
 * BigQuery and Snowflake fakes) against a final table and a stage set up by hand, without a merge in between.
 */
import { Client } from 'pg';
import { landedCountStatement } from '../../plugins/bigquery/sql';
import { landedSql } from '../../plugins/postgres/merge';
import { missingKeysSql } from '../../plugins/redshift/sql';
import { countLanded } from '../../plugins/snowflake/sql';
import { PERSONS_SCHEMA, NO_PERSON_VERSION } from '../../src/sdk/models';
import { translateGoogleSql } from '../fakes/bigquery/translate';
import { createTestDatabase, testServerUrl } from '../support/pg';

type Versions = [distinctIdVersion: number, personVersion: number, insertedAt: string];
const t = (hour: number) => `2024-03-01T0${hour}:00:00.000000Z`;

/** distinct_id -> [stored versions or undefined, stage versions], and whether the stage row landed. */
const cases: Record<string, { stored?: Versions; staged: Versions; landed: boolean }> = {
  'person-row-still-missing': { stored: [0, NO_PERSON_VERSION, t(1)], staged: [0, 0, t(3)], landed: false },
  'same-versions-rewritten-later': { stored: [0, 0, t(1)], staged: [0, 0, t(3)], landed: false },
  'never-stored': { staged: [0, 0, t(3)], landed: false },
  'same': { stored: [0, 0, t(3)], staged: [0, 0, t(3)], landed: true },
  'stored-newer-distinct-id-version': { stored: [1, 0, t(2)], staged: [0, 5, t(3)], landed: true },
  'stored-newer-person-version': { stored: [0, 2, t(1)], staged: [0, 1, t(3)], landed: true },
};
const expectedLanded = Object.values(cases).filter((c) => c.landed).length;

describe('persons reconciliation counts a row as landed only when the destination holds its versions or newer', () => {
  let db: { name: string; url: string };
  let pg: Client;

  beforeAll(async () => {
    db = await createTestDatabase('persons_landed', false);
    pg = new Client(db.url);
    await pg.connect();
    const columns = PERSONS_SCHEMA.columns.map((c) => `"${c.name}"`).join(', ');
    const insert = async (table: string, distinctId: string, [dv, pv, at]: Versions) =>
      pg.query(`INSERT INTO ${table} (${columns}) VALUES (1, $1, 'p', NULL, $2, $3, false, NULL, $4)`, [distinctId, pv, dv, at]);
    for (const table of ['final', 'stage']) {
      await pg.query(
        `CREATE TABLE ${table} (team_id BIGINT, distinct_id TEXT, person_id TEXT, properties TEXT, person_version BIGINT,
          person_distinct_id_version BIGINT, is_deleted BOOLEAN, created_at TIMESTAMPTZ, _inserted_at TIMESTAMPTZ)`,
      );
    }
    for (const [distinctId, c] of Object.entries(cases)) {
      if (c.stored) await insert('final', distinctId, c.stored);
      await insert('stage', distinctId, c.staged);
    }
    // Snowflake's statements name columns in upper case.
    for (const table of ['final', 'stage']) {
      await pg.query(`CREATE TABLE "${table.toUpperCase()}" AS SELECT ${PERSONS_SCHEMA.columns.map((c) => `"${c.name}" AS "${c.name.toUpperCase()}"`).join(', ')} FROM ${table}`);
    }
  });
  afterAll(async () => {
    await pg?.end();
    const admin = new Client(testServerUrl());
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
    await admin.end();
  });

  const count = async (sql: string) => Number(Object.values((await pg.query(sql)).rows[0])[0]);

  it('postgres', async () => {
    expect(await count(landedSql('final', 'stage', PERSONS_SCHEMA))).toBe(expectedLanded);
  });

  it('redshift (missing keys = staged - landed)', async () => {
    expect(await count(missingKeysSql('final', 'stage', PERSONS_SCHEMA))).toBe(Object.keys(cases).length - expectedLanded);
  });

  it('bigquery', async () => {
    const ref = (tableId: string) => ({ projectId: 'p', datasetId: 'd', tableId });
    const sql = translateGoogleSql(landedCountStatement(PERSONS_SCHEMA, ref('final'), ref('stage')), (_dataset, table) => table);
    expect(await count(sql)).toBe(expectedLanded);
  });

  it('snowflake', async () => {
    expect(await count(countLanded('"FINAL"', '"STAGE"', PERSONS_SCHEMA))).toBe(expectedLanded);
  });
});
