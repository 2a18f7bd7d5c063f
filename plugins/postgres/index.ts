/**
 * Postgres destination: COPY into a per-run UNLOGGED stage, then one transaction that inserts absent events or
 * merges persons/sessions by version. See README.md for the table schema, privileges and the lossy-value rule.
 */
import { defineDestination } from '../../src/sdk';
import { postgresConfigSchema, type PostgresConfig } from './config';
import { toDestinationError } from './errors';
import { testConnection } from './test-connection';
import { writeRun } from './write';

export default defineDestination<PostgresConfig>({
  id: 'postgres',
  displayName: 'PostgreSQL',
  description:
    'Writes events, persons and sessions to tables in a Postgres database (12 or later). Runs are idempotent: ' +
    'events are inserted when absent, persons and sessions are merged by key and version.',
  configSchema: postgresConfigSchema,
  secretFields: ['password'],
  models: ['events', 'persons', 'sessions'],
  capabilities: { merge: true, suggestedConcurrency: 2 },
  testConnection,
  write: writeRun,
  classifyError: (err) => toDestinationError(err),
});
