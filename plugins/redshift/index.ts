/**
 * Amazon Redshift destination: a per-run stage loaded with multi-row INSERTs or COPY from S3, then one transaction
 * that deletes and inserts by key (and version, for persons and sessions). See README.md.
 */
import { defineDestination } from '../../src/sdk';
import { redshiftConfigSchema, type RedshiftConfig } from './config';
import { toDestinationError } from './errors';
import { testConnection } from './test-connection';
import { writeRun } from './write';

export default defineDestination<RedshiftConfig>({
  id: 'redshift',
  displayName: 'Amazon Redshift',
  description:
    'Writes events, persons and sessions to Redshift tables, by INSERT statements or by COPY from S3. Runs are ' +
    'idempotent: events are inserted when absent, persons and sessions are merged by key and version.',
  configSchema: redshiftConfigSchema,
  secretFields: ['password', 'aws_secret_access_key'],
  models: ['events', 'persons', 'sessions'],
  capabilities: { merge: true, suggestedConcurrency: 1 },
  testConnection,
  write: writeRun,
  classifyError: (err) => toDestinationError(err),
});
