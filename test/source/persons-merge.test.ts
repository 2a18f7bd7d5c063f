/**
 * Persons from ClickHouse through every merging destination: the person rows that arrive or change after their
 * distinct-id row was exported must end up at the destination (issue 11, defect 3), and a run only counts a row
 * as landed when the destination holds that content or newer.
 */
import { randomUUID } from 'node:crypto';
import { diffRows, type ConformanceFixture } from '../../src/sdk/conformance';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import { MODEL_SCHEMAS, NO_PERSON_VERSION, type Row } from '../../src/sdk/models';
import { insertPersons, isoMicros, microsOf, type PersonDistinctIdRow, type PersonRow } from '../../src/source/generator';
import bigquery from '../conformance/fixtures/bigquery';
import postgres from '../conformance/fixtures/postgres';
import redshift from '../conformance/fixtures/redshift';
import s3, { s3Fixture } from '../conformance/fixtures/s3';
import snowflake from '../conformance/fixtures/snowflake';
import { collect, createTestClickHouse } from './support/clickhouse';

const TEAM = 1;
/** The source reads interval `h` as [h, h+1) hours after 2024-03-01 00:00 UTC, as the conformance kit does. */
const at = (hour: number, seconds: number) => isoMicros(microsOf(hourInterval(hour).start) + seconds * 1_000_000);

const ids = { late: randomUUID(), rewrite: randomUUID(), oldPerson: randomUUID(), newPerson: randomUUID(), deleted: randomUUID(), orphan: randomUUID() };
const person = (id: string, version: number, properties: object, created: string, timestamp: string, deleted = 0): PersonRow => ({
  id,
  team_id: TEAM,
  properties: JSON.stringify(properties),
  is_identified: 1,
  is_deleted: deleted,
  version,
  created_at: created,
  _timestamp: timestamp,
});
const pdi = (distinctId: string, personId: string, version: number, timestamp: string): PersonDistinctIdRow => ({
  team_id: TEAM,
  distinct_id: distinctId,
  person_id: personId,
  is_deleted: 0,
  version,
  _timestamp: timestamp,
});

/** Interval 1 holds the distinct-id rows; interval 3 the person rows and changes that come hours later. */
const persons: PersonRow[] = [
  // 'late': the person row (version 0, as PostHog gives new persons) lands two intervals after its distinct id.
  person(ids.late, 0, { name: 'late' }, at(1, 5), at(3, 10)),
  // 'rewrite': PostHog rewrites the person at the same version.
  person(ids.rewrite, 0, { plan: 'free' }, at(1, 20), at(1, 20)),
  person(ids.rewrite, 0, { plan: 'pro' }, at(1, 20), at(3, 20)),
  // 'moved': merged into another person whose version is lower than the old person's.
  person(ids.oldPerson, 5, { who: 'old' }, at(1, 30), at(1, 30)),
  person(ids.newPerson, 0, { who: 'new' }, at(1, 31), at(1, 31)),
  // 'deleted': the person is deleted by a row at the same version.
  person(ids.deleted, 0, { name: 'deleted' }, at(1, 40), at(1, 40)),
  person(ids.deleted, 0, { name: 'deleted' }, at(1, 40), at(3, 40), 1),
  // 'orphan' never gets a person row.
];
const distinctIds: PersonDistinctIdRow[] = [
  pdi('late', ids.late, 0, at(1, 10)),
  pdi('rewrite', ids.rewrite, 0, at(1, 20)),
  pdi('moved', ids.oldPerson, 0, at(1, 30)),
  pdi('moved', ids.newPerson, 1, at(3, 30)),
  pdi('deleted', ids.deleted, 0, at(1, 40)),
  pdi('orphan', ids.orphan, 0, at(1, 50)),
];

const row = (r: Omit<Row, 'team_id'>): Row => ({ team_id: TEAM, ...r });
const expected: Row[] = [
  row({ distinct_id: 'deleted', person_id: ids.deleted, properties: '{"name":"deleted"}', person_version: 0, person_distinct_id_version: 0, is_deleted: true, created_at: at(1, 40), _inserted_at: at(3, 40) }),
  row({ distinct_id: 'late', person_id: ids.late, properties: '{"name":"late"}', person_version: 0, person_distinct_id_version: 0, is_deleted: false, created_at: at(1, 5), _inserted_at: at(3, 10) }),
  row({ distinct_id: 'moved', person_id: ids.newPerson, properties: '{"who":"new"}', person_version: 0, person_distinct_id_version: 1, is_deleted: false, created_at: at(1, 31), _inserted_at: at(3, 30) }),
  row({ distinct_id: 'orphan', person_id: ids.orphan, properties: null, person_version: NO_PERSON_VERSION, person_distinct_id_version: 0, is_deleted: false, created_at: null, _inserted_at: at(1, 50) }),
  row({ distinct_id: 'rewrite', person_id: ids.rewrite, properties: '{"plan":"pro"}', person_version: 0, person_distinct_id_version: 0, is_deleted: false, created_at: at(1, 20), _inserted_at: at(3, 20) }),
];

const destinations: [string, () => ConformanceFixture][] = [
  ['postgres', postgres],
  ['redshift (Postgres stand-in)', redshift],
  ['bigquery (fake)', bigquery],
  ['snowflake (fake)', snowflake],
  // File destinations write per-interval snapshots; readBack merges them as the SDK's readers do.
  ['S3 files, JSON Lines', s3],
  ['S3 files, Parquet', s3Fixture({ file_format: 'Parquet', compression: 'zstd' })],
];

describe('persons whose person row arrives or changes after their distinct id was exported', () => {
  let ch: Awaited<ReturnType<typeof createTestClickHouse>>;
  const runs = new Map<number, Row[]>();

  beforeAll(async () => {
    ch = await createTestClickHouse('src_persons_late');
    await ch.client.command({ query: `SYSTEM STOP MERGES ${ch.database}.person` });
    await ch.client.command({ query: `SYSTEM STOP MERGES ${ch.database}.person_distinct_id2` });
    // What interval 1's run saw: only the rows that existed then.
    const before = (r: { _timestamp: string }) => r._timestamp < at(2, 0);
    await insertPersons(ch.client, { database: ch.database }, { persons: persons.filter(before), distinctIds: distinctIds.filter(before) });
    runs.set(1, await read(1));
    const after = (r: { _timestamp: string }) => !before(r);
    await insertPersons(ch.client, { database: ch.database }, { persons: persons.filter(after), distinctIds: distinctIds.filter(after) });
    runs.set(2, await read(2));
    runs.set(3, await read(3));
  });
  afterAll(() => ch?.drop());

  async function read(hour: number): Promise<Row[]> {
    const q = { teamId: TEAM, model: 'persons' as const, interval: hourInterval(hour) };
    const rows = await collect(ch.source.stream(q));
    expect(await ch.source.count(q)).toBe(rows.length);
    return rows;
  }

  it('reads a distinct id without a person row as NO_PERSON_VERSION, and the later rows in interval 3', () => {
    expect(runs.get(1)!.map((r) => [r.distinct_id, r.person_version, r.properties])).toEqual([
      ['deleted', 0, '{"name":"deleted"}'],
      ['late', NO_PERSON_VERSION, null],
      ['moved', 5, '{"who":"old"}'],
      ['orphan', NO_PERSON_VERSION, null],
      ['rewrite', 0, '{"plan":"free"}'],
    ]);
    expect(runs.get(2)).toEqual([]);
    expect(runs.get(3)).toEqual(expected.filter((r) => r.distinct_id !== 'orphan'));
  });

  describe.each(destinations)('%s', (_name, makeFixture) => {
    const fx = makeFixture();
    afterAll(() => fx.teardown?.());

    async function write(config: unknown, hour: number, rows: Row[]): Promise<number> {
      const ctx = runContext({ model: 'persons', interval: hourInterval(hour), expectedRows: rows.length });
      const result = await fx.plugin.write(fx.plugin.configSchema.parse(config), ctx, stream(toBatches(rows)));
      return result.rowsLanded;
    }

    it('ends with every person as ClickHouse holds it, each run fully landed', async () => {
      const config = await fx.config();
      for (const hour of [1, 3]) expect({ hour, landed: await write(config, hour, runs.get(hour)!) }).toEqual({ hour, landed: runs.get(hour)!.length });
      const differences = diffRows(MODEL_SCHEMAS.persons, expected, await fx.readBack(config, 'persons'), fx.expectedValue?.bind(fx));
      expect(differences).toEqual([]);
      // A late retry of interval 1 (the rows as first read) never moves a person back.
      await write(config, 1, runs.get(1)!);
      expect(diffRows(MODEL_SCHEMAS.persons, expected, await fx.readBack(config, 'persons'), fx.expectedValue?.bind(fx))).toEqual([]);
    });
  });
});
