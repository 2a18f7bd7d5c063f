/** testConnection: reach the cluster, log in, check the privileges a run needs and (copy mode) the bucket. */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DestinationError, MODEL_SCHEMAS, MODELS, type ConnectionContext, type Model } from '../../src/sdk';
import type { RedshiftConfig } from './config';
import { connect } from './connection';
import { toDestinationError } from './errors';
import { qualified, quoteIdent } from './identifiers';
import { createS3Client } from './s3-staging';
import { checkExistingTable, schemaExists, tableColumns } from './table';

export async function testConnection(config: RedshiftConfig, ctx: ConnectionContext): Promise<void> {
  const client = await connect(config, ctx.signal);
  try {
    if (!(await schemaExists(client, config.schema))) {
      throw new DestinationError('config', `Schema ${quoteIdent(config.schema)} does not exist in database ${quoteIdent(config.database)}.`, {
        code: 'SCHEMA_MISSING',
      });
    }
    const { rows } = await client.query<{ can_create: boolean; can_use: boolean; role: string }>(
      `SELECT has_schema_privilege($1, 'CREATE') AS can_create, has_schema_privilege($1, 'USAGE') AS can_use, current_user AS role`,
      [config.schema],
    );
    const { can_create, can_use, role } = rows[0];
    if (!can_use || !can_create) {
      throw new DestinationError(
        'permanent',
        `User ${quoteIdent(role)} lacks ${!can_use ? 'USAGE and CREATE' : 'CREATE'} on schema ${quoteIdent(config.schema)}: each run ` +
          `creates a staging table there. Run: GRANT USAGE, CREATE ON SCHEMA ${quoteIdent(config.schema)} TO ${quoteIdent(role)};`,
        { code: 'PERMISSION_DENIED' },
      );
    }
    const candidates: { table: string; model?: Model }[] = config.table_name
      ? [{ table: config.table_name }]
      : MODELS.map((m) => ({ table: m, model: m }));
    for (const { table, model } of candidates) {
      const columns = await tableColumns(client, config.schema, table);
      if (!columns) continue;
      if (model) checkExistingTable(columns, config.schema, table, MODEL_SCHEMAS[model], config.properties_data_type);
      const name = qualified(config.schema, table);
      const privs = await client.query<{ s: boolean; i: boolean; d: boolean }>(
        `SELECT has_table_privilege($1, 'SELECT') AS s, has_table_privilege($1, 'INSERT') AS i, has_table_privilege($1, 'DELETE') AS d`,
        [name],
      );
      const p = privs.rows[0];
      const missing = [!p.s && 'SELECT', !p.i && 'INSERT', !p.d && 'DELETE'].filter(Boolean);
      if (missing.length) {
        throw new DestinationError('permanent', `User ${quoteIdent(role)} lacks ${missing.join(', ')} on ${name}. Run: GRANT SELECT, INSERT, DELETE ON ${name} TO ${quoteIdent(role)};`, {
          code: 'PERMISSION_DENIED',
        });
      }
    }
    if (config.mode === 'copy') await checkBucket(config, ctx.signal);
  } catch (err) {
    throw toDestinationError(err, `Checking ${config.host}:${config.port}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Lists the staging prefix: proves the bucket exists and the upload credentials can reach it. */
async function checkBucket(config: RedshiftConfig, signal: AbortSignal): Promise<void> {
  const s3 = createS3Client(config);
  try {
    await s3.send(new ListObjectsV2Command({ Bucket: config.s3_bucket!, Prefix: config.s3_prefix || undefined, MaxKeys: 1 }), { abortSignal: signal });
  } catch (err) {
    throw toDestinationError(err, `Checking s3://${config.s3_bucket}`);
  } finally {
    s3.destroy();
  }
}
