/**
 * Amazon Redshift destination: a per-run stage loaded with multi-row INSERTs or COPY from S3, then one transaction
 * that deletes and inserts by key (and version, for persons and sessions). See README.md.
 *
 * Byte path (whole models): ClickHouse writes the INSERT statements' row literals (insert mode) or the staged JSON
 * Lines (copy mode) under this plugin's value rules; see write.ts and src/source/wire/redshift.ts.
 */
import { defineDestination } from '../../src/sdk';
import { redshiftConfigSchema, type RedshiftConfig } from './config';
import { toDestinationError } from './errors';
import { testConnection } from './test-connection';
import { writeRun, writeRunEncoded } from './write';

export default defineDestination<RedshiftConfig>({
  id: 'redshift',
  displayName: 'Amazon Redshift',
  description:
    'Writes events, persons and sessions to Redshift tables, by INSERT statements or by COPY from S3. Runs are ' +
    'idempotent: events are inserted when absent, persons and sessions are merged by key and version.',
  configSchema: redshiftConfigSchema,
  secretFields: ['password', 'aws_secret_access_key'],
  models: ['events', 'persons', 'sessions'],
  capabilities: { merge: true, suggestedConcurrency: 1, wireFormats: ['redshift-values', 'redshift-jsonl'] },
  testConnection,
  write: writeRun,
  wireFormat: (config) => ({
    format: config.mode === 'copy' ? 'redshift-jsonl' : 'redshift-values',
    compression: 'none',
    properties: config.properties_data_type,
  }),
  writeEncoded: writeRunEncoded,
  classifyError: (err) => toDestinationError(err),
});
