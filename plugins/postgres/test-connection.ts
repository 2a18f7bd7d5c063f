/** testConnection: reach the server, log in, and check the privileges a run needs, without writing data. */
import { DestinationError, MODEL_SCHEMAS, MODELS, type ConnectionContext } from '../../src/sdk';
import type { PostgresConfig } from './config';
import { connect } from './connection';
import { checkExistingTable, inspectTable, schemaExists } from './ddl';
import { toDestinationError } from './errors';
import { displayName, quoteIdent } from './identifiers';

export async function testConnection(config: PostgresConfig, ctx: ConnectionContext): Promise<void> {
  const client = await connect(config, ctx.signal);
  try {
    if (!(await schemaExists(client, config.schema))) {
      throw new DestinationError('config', `Schema ${quoteIdent(config.schema)} does not exist in database ${quoteIdent(config.database)}.`, {
        code: 'SCHEMA_MISSING',
      });
    }
    const { rows } = await client.query<{ can_create: boolean; can_use: boolean; role: string }>(
      `SELECT has_schema_privilege(n.oid, 'CREATE') AS can_create, has_schema_privilege(n.oid, 'USAGE') AS can_use,
              current_user AS role
         FROM pg_namespace n WHERE n.nspname = $1`,
      [config.schema],
    );
    const { can_create, can_use, role } = rows[0];
    if (!can_use || !can_create) {
      throw new DestinationError(
        'permanent',
        `Role ${quoteIdent(role)} lacks ${!can_use ? 'USAGE and CREATE' : 'CREATE'} on schema ${quoteIdent(config.schema)}: ` +
          `each run creates a staging table there. Run: GRANT USAGE, CREATE ON SCHEMA ${quoteIdent(config.schema)} TO ${quoteIdent(role)};`,
        { code: 'PERMISSION_DENIED' },
      );
    }
    // Tables that exist already must accept the merge; missing ones are created by the first run.
    const candidates = config.table_name ? [{ table: config.table_name, model: undefined }] : MODELS.map((m) => ({ table: m, model: m }));
    for (const { table, model } of candidates) {
      const info = await inspectTable(client, config.schema, table);
      if (!info) continue;
      if (model) checkExistingTable(info, config.schema, table, MODEL_SCHEMAS[model]);
      const privs = await client.query<{ missing: string[] }>(
        `SELECT array_remove(ARRAY[
            CASE WHEN has_table_privilege($1::oid, 'INSERT') THEN NULL ELSE 'INSERT' END,
            CASE WHEN has_table_privilege($1::oid, 'UPDATE') THEN NULL ELSE 'UPDATE' END,
            CASE WHEN has_table_privilege($1::oid, 'SELECT') THEN NULL ELSE 'SELECT' END], NULL) AS missing`,
        [info.oid],
      );
      const missing = privs.rows[0].missing;
      if (missing.length > 0) {
        throw new DestinationError(
          'permanent',
          `Role ${quoteIdent(role)} lacks ${missing.join(', ')} on ${displayName(config.schema, table)}. ` +
            `Run: GRANT INSERT, UPDATE, SELECT ON ${displayName(config.schema, table)} TO ${quoteIdent(role)};`,
          { code: 'PERMISSION_DENIED' },
        );
      }
    }
  } catch (err) {
    throw toDestinationError(err, `Checking ${config.host}:${config.port}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
