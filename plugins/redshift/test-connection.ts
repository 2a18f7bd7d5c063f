/** testConnection: reach the cluster, log in, check the privileges a run needs and (copy mode) the bucket. */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { connectionStep, MODEL_SCHEMAS, type ConnectionContext } from '../../src/sdk';
import { probeTcp } from '../../src/sdk/reachability';
import { requireSchemaAccess, requireTablePrivileges, tableCandidates } from '../../src/sdk/pgwire';
import type { RedshiftConfig } from './config';
import { connect } from './connection';
import { toDestinationError } from './errors';
import { createS3Client } from './s3-staging';
import { checkExistingTable, tableColumns } from './table';

export async function testConnection(config: RedshiftConfig, ctx: ConnectionContext): Promise<void> {
  const where = `${config.host}:${config.port}`;
  const checked = <T>(fn: () => Promise<T>) => fn().catch((err) => Promise.reject(toDestinationError(err, `Checking ${where}`)));
  await connectionStep(ctx, 'connect', () => checked(() => probeTcp(config.host, config.port, ctx.signal)), `${where} accepts connections.`);
  const client = await connectionStep(ctx, 'authenticate', () => connect(config, ctx.signal), `Signed in to database ${config.database} as ${config.user}.`);
  try {
    await connectionStep(ctx, 'permissions', () => checked(async () => {
      const role = await requireSchemaAccess(client, { schema: config.schema, database: config.database, principal: 'User' });
      for (const { table, model } of tableCandidates(config.table_name)) {
        const columns = await tableColumns(client, config.schema, table);
        if (!columns) continue;
        if (model) checkExistingTable(columns, config.schema, table, MODEL_SCHEMAS[model], config.properties_data_type);
        await requireTablePrivileges(client, { schema: config.schema, table, privileges: ['SELECT', 'INSERT', 'DELETE'], principal: 'User', role });
      }
      if (config.mode === 'copy') await checkBucket(config, ctx.signal);
    }), config.mode === 'copy' ? `The user may write schema ${config.schema} and reach the staging bucket ${config.s3_bucket}.` : `The user may write schema ${config.schema}.`);
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
