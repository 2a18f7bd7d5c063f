/** testConnection: reach the cluster, log in, check the privileges a run needs and (copy mode) the bucket. */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { MODEL_SCHEMAS, type ConnectionContext } from '../../src/sdk';
import { requireSchemaAccess, requireTablePrivileges, tableCandidates } from '../../src/sdk/pgwire';
import type { RedshiftConfig } from './config';
import { connect } from './connection';
import { toDestinationError } from './errors';
import { createS3Client } from './s3-staging';
import { checkExistingTable, tableColumns } from './table';

export async function testConnection(config: RedshiftConfig, ctx: ConnectionContext): Promise<void> {
  const client = await connect(config, ctx.signal);
  try {
    const role = await requireSchemaAccess(client, { schema: config.schema, database: config.database, principal: 'User' });
    for (const { table, model } of tableCandidates(config.table_name)) {
      const columns = await tableColumns(client, config.schema, table);
      if (!columns) continue;
      if (model) checkExistingTable(columns, config.schema, table, MODEL_SCHEMAS[model], config.properties_data_type);
      await requireTablePrivileges(client, { schema: config.schema, table, privileges: ['SELECT', 'INSERT', 'DELETE'], principal: 'User', role });
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
