/**
 * testConnection, in the steps users see: reach the server, log in, check the privileges a run needs, then a write
 * probe (a table created and a row inserted in a transaction that is rolled back, so nothing is left behind).
 */
import { randomBytes } from 'node:crypto';
import { connectionStep, MODEL_SCHEMAS, type ConnectionContext } from '../../src/sdk';
import { quoteIdent, requireSchemaAccess, requireTablePrivileges, tableCandidates, type TablePrivilege } from '../../src/sdk/pgwire';
import { probeTcp } from '../../src/sdk/reachability';
import type { PostgresConfig } from './config';
import { connect } from './connection';
import { checkExistingTable, inspectTable } from './ddl';
import { toDestinationError } from './errors';

export async function testConnection(config: PostgresConfig, ctx: ConnectionContext): Promise<void> {
  const where = `${config.host}:${config.port}`;
  const checked = <T>(fn: () => Promise<T>) => fn().catch((err) => Promise.reject(toDestinationError(err, `Checking ${where}`)));
  await connectionStep(ctx, 'connect', () => checked(() => probeTcp(config.host, config.port, ctx.signal)), `${where} accepts connections.`);
  const client = await connectionStep(ctx, 'authenticate', () => connect(config, ctx.signal), `Signed in to database ${config.database} as ${config.user}.`);
  try {
    await connectionStep(ctx, 'permissions', () => checked(async () => {
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
    }), `The role may create tables in schema ${config.schema} and write the export's tables.`);
    await connectionStep(ctx, 'write_probe', () => checked(async () => {
      const probe = `${quoteIdent(config.schema)}.${quoteIdent(`outport_probe_${randomBytes(4).toString('hex')}`)}`;
      await client.query('BEGIN');
      try {
        await client.query(`CREATE TABLE ${probe} (probe int)`);
        await client.query(`INSERT INTO ${probe} VALUES (1)`);
      } finally {
        await client.query('ROLLBACK');
      }
    }), `Created a table in schema ${config.schema} and wrote a row, then rolled both back.`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
