/**
 * Checks of the target schema and tables shared by testConnection and a run's table set-up. The SQL sticks to
 * what both Postgres and Redshift accept (name-based privilege functions, no arrays).
 */
import type { Client } from 'pg';
import { DestinationError } from '../destination';
import { MODELS, type Model } from '../models';
import { qualified, quoteIdent } from './identifiers';

/** What the server calls the account in GRANTs and messages: Postgres 'Role', Redshift 'User'. */
export type Principal = 'Role' | 'User';
export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

export async function schemaExists(client: Client, schema: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return (rowCount ?? 0) > 0;
}

/** Before a run touches tables: a missing schema is a config error (runs do not create schemas). */
export async function requireSchema(client: Client, schema: string): Promise<void> {
  if (!(await schemaExists(client, schema))) {
    throw new DestinationError('config', `Schema ${quoteIdent(schema)} does not exist in the database; create it or fix the schema setting.`, {
      code: 'SCHEMA_MISSING',
    });
  }
}

/**
 * testConnection's check: `schema` exists in `database` and the connected account has USAGE and CREATE on it
 * (each run creates its staging table there). Returns the account's name, for GRANTs in later messages.
 */
export async function requireSchemaAccess(
  client: Client,
  o: { schema: string; database: string; principal: Principal },
): Promise<string> {
  if (!(await schemaExists(client, o.schema))) {
    throw new DestinationError('config', `Schema ${quoteIdent(o.schema)} does not exist in database ${quoteIdent(o.database)}.`, {
      code: 'SCHEMA_MISSING',
    });
  }
  const { rows } = await client.query<{ can_create: boolean; can_use: boolean; role: string }>(
    `SELECT has_schema_privilege($1, 'CREATE') AS can_create, has_schema_privilege($1, 'USAGE') AS can_use, current_user AS role`,
    [o.schema],
  );
  const { can_create, can_use, role } = rows[0];
  if (!can_use || !can_create) {
    const schema = quoteIdent(o.schema);
    throw new DestinationError(
      'permanent',
      `${o.principal} ${quoteIdent(role)} lacks ${!can_use ? 'USAGE and CREATE' : 'CREATE'} on schema ${schema}: ` +
        `each run creates a staging table there. Run: GRANT USAGE, CREATE ON SCHEMA ${schema} TO ${quoteIdent(role)};`,
      { code: 'PERMISSION_DENIED' },
    );
  }
  return role;
}

/** Throws a permanent error naming the privileges `role` lacks on an existing table, with the GRANT to run. */
export async function requireTablePrivileges(
  client: Client,
  o: { schema: string; table: string; privileges: readonly TablePrivilege[]; principal: Principal; role: string },
): Promise<void> {
  const name = qualified(o.schema, o.table);
  // Privilege names come from the fixed TablePrivilege list, so they may stand in the SQL text. Aliases are
  // lower-case: Redshift folds even quoted identifiers by default.
  const columns = o.privileges.map((p, i) => `has_table_privilege($1, '${p}') AS granted_${i}`);
  const { rows } = await client.query<Record<string, boolean>>(`SELECT ${columns.join(', ')}`, [name]);
  const missing = o.privileges.filter((_, i) => !rows[0][`granted_${i}`]);
  if (missing.length > 0) {
    throw new DestinationError(
      'permanent',
      `${o.principal} ${quoteIdent(o.role)} lacks ${missing.join(', ')} on ${name}. ` +
        `Run: GRANT ${o.privileges.join(', ')} ON ${name} TO ${quoteIdent(o.role)};`,
      { code: 'PERMISSION_DENIED' },
    );
  }
}

/** The tables testConnection looks at: the configured one, or one per model (with the model, to check its columns). */
export function tableCandidates(tableName: string | undefined): { table: string; model?: Model }[] {
  return tableName ? [{ table: tableName }] : MODELS.map((m) => ({ table: m, model: m }));
}
