/**
 * Postgres destination: COPY into a per-run UNLOGGED stage, then one transaction that replaces the run's events or
 * merges persons/sessions by version. The COPY text comes from the row encoder (copy.ts) or, on the byte path, from
 * ClickHouse (`pgcopy`, encoded.ts). See README.md for the table schema, privileges and the lossy-value rule.
 */
import { defineDestination } from '../../src/sdk';
import { postgresConfigSchema, type PostgresConfig } from './config';
import { toDestinationError } from './errors';
import { testConnection } from './test-connection';
import { PGCOPY, writeEncodedRun, writeRun } from './write';

export default defineDestination<PostgresConfig>({
  id: 'postgres',
  displayName: 'PostgreSQL',
  description:
    'Writes events, persons and sessions to tables in a Postgres database (12 or later). Runs are idempotent: ' +
    'events are inserted when absent, persons and sessions are merged by key and version.',
  configSchema: postgresConfigSchema,
  secretFields: ['password'],
  models: ['events', 'persons', 'sessions'],
  capabilities: { merge: true, suggestedConcurrency: 2, wireFormats: ['pgcopy'] },
  testConnection,
  write: writeRun,
  // The byte path for every config and model: ClickHouse writes the COPY text (src/source/wire/pgcopy.ts).
  wireFormat: () => PGCOPY,
  writeEncoded: (config, ctx, run) => writeEncodedRun(config, ctx, run),
  classifyError: (err) => toDestinationError(err),
});
