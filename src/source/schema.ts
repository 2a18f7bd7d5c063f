/**
 * PostHog-shaped source tables, for the embedded default, the demo, tests and the benchmark.
 *
 * - `events`: ReplacingMergeTree partitioned by month of `timestamp` and ordered like PostHog's sharded_events,
 *   so duplicate inserts of one event collapse on merge (the reader still deduplicates by uuid, merges are lazy).
 *   `inserted_at` is when the row landed (nullable for old rows, `_timestamp` is then used).
 * - `person` and `person_distinct_id2`: ReplacingMergeTree(version), as in PostHog; deletions are rows with
 *   `is_deleted = 1` at a higher version.
 * - Sessions have no table: the sessions model is derived from events' `$session_id` property at read time
 *   (see source.ts), so it cannot disagree with the events it summarises.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { isIdentifier } from './config';

export interface SourceTableNames {
  database: string;
  events?: string;
  person?: string;
  personDistinctId?: string;
}

export function sourceTableDdl(names: SourceTableNames): string[] {
  const db = names.database;
  const events = names.events ?? 'events';
  const person = names.person ?? 'person';
  const pdi = names.personDistinctId ?? 'person_distinct_id2';
  for (const [setting, v] of Object.entries({ database: db, events, person, personDistinctId: pdi })) {
    if (!isIdentifier(v)) throw new Error(`${setting} must be a plain identifier matching ^[A-Za-z_][A-Za-z0-9_]*$ (got ${JSON.stringify(v)})`);
  }
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.${events} (
      uuid UUID,
      event String,
      properties String,
      timestamp DateTime64(6, 'UTC'),
      team_id Int64,
      distinct_id String,
      elements_chain String,
      created_at DateTime64(6, 'UTC'),
      person_id UUID,
      person_properties String,
      inserted_at Nullable(DateTime64(6, 'UTC')),
      _timestamp DateTime('UTC'),
      _offset UInt64
    ) ENGINE = ReplacingMergeTree(_timestamp)
    PARTITION BY toYYYYMM(timestamp)
    ORDER BY (team_id, toDate(timestamp), event, cityHash64(distinct_id), cityHash64(uuid))`,
    `CREATE TABLE IF NOT EXISTS ${db}.${person} (
      id UUID,
      created_at DateTime64(3, 'UTC'),
      team_id Int64,
      properties String,
      is_identified Int8,
      is_deleted Int8,
      version UInt64,
      _timestamp DateTime('UTC'),
      _offset UInt64
    ) ENGINE = ReplacingMergeTree(version)
    ORDER BY (team_id, id)`,
    `CREATE TABLE IF NOT EXISTS ${db}.${pdi} (
      team_id Int64,
      distinct_id String,
      person_id UUID,
      is_deleted Int8,
      version Int64,
      _timestamp DateTime('UTC'),
      _offset UInt64,
      _partition UInt64
    ) ENGINE = ReplacingMergeTree(version)
    ORDER BY (team_id, distinct_id)`,
  ];
}

/** Creates the database and the three tables if missing. */
export async function createSourceTables(client: ClickHouseClient, names: SourceTableNames): Promise<void> {
  for (const query of sourceTableDdl(names)) await client.command({ query });
}
