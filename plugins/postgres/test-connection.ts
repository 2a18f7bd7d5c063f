/** testConnection: reach the server, log in, and check the privileges a run needs, without writing data. */
import { MODEL_SCHEMAS, type ConnectionContext } from '../../src/sdk';
import { requireSchemaAccess, requireTablePrivileges, tableCandidates, type TablePrivilege } from '../../src/sdk/pgwire';
import type { PostgresConfig } from './config';
import { connect } from './connection';
import { checkExistingTable, inspectTable } from './ddl';
import { toDestinationError } from './errors';

export async function testConnection(config: PostgresConfig, ctx: ConnectionContext): Promise<void> {
  const client = await connect(config, ctx.signal);
  try {
    const role = await requireSchemaAccess(client, { schema: config.schema, database: config.database, principal: 'Role' });
    // Tables that exist already must accept the merge; missing ones are created by the first run.
    for (const { table, model } of tableCandidates(config.table_name)) {
      const info = await inspectTable(client, config.schema, table);
      if (!info) continue;
      if (model) checkExistingTable(info, config.schema, table, MODEL_SCHEMAS[model]);
      // Events replace earlier copies of a run's keys by DELETE (load.ts); persons and sessions upsert.
      const privileges: TablePrivilege[] = !model ? ['INSERT', 'UPDATE', 'DELETE', 'SELECT'] : MODEL_SCHEMAS[model].mutable ? ['INSERT', 'UPDATE', 'SELECT'] : ['INSERT', 'DELETE', 'SELECT'];
      await requireTablePrivileges(client, { schema: config.schema, table, privileges, principal: 'Role', role });
    }
  } catch (err) {
    throw toDestinationError(err, `Checking ${config.host}:${config.port}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
