/** The destination table (created when missing, checked when it exists) and the per-run stage's name. */
import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import { DestinationError, type ModelSchema } from '../../src/sdk';
import { qualified, quoteIdent, requireSchema } from '../../src/sdk/pgwire';
import { columnDefinition, createTableSql, type PropertiesType } from './sql';

export const STAGE_PREFIX = '_outport_stage_';

/** Same name for every attempt of a run, so a leftover of a killed attempt is found and replaced. */
export function stageTableName(runId: string): string {
  return STAGE_PREFIX + createHash('sha256').update(runId).digest('hex').slice(0, 24);
}

/** Column name -> information_schema data_type, or undefined when the table does not exist. */
export async function tableColumns(client: Client, schema: string, table: string): Promise<Map<string, string> | undefined> {
  const { rows } = await client.query<{ column_name: string; data_type: string }>(
    'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
    [schema, table],
  );
  return rows.length ? new Map(rows.map((r) => [r.column_name, r.data_type.toLowerCase()])) : undefined;
}

/** Throws a permanent error naming what an existing table lacks, with the statement that fixes it. */
export function checkExistingTable(columns: Map<string, string>, schema: string, table: string, model: ModelSchema, properties: PropertiesType): void {
  const name = qualified(schema, table);
  const missing = model.columns.filter((c) => !columns.has(c.name));
  if (missing.length > 0) {
    const fix = missing.map((c) => `ALTER TABLE ${name} ADD COLUMN ${columnDefinition(c, properties, false)};`).join(' ');
    throw new DestinationError('permanent', `Table ${name} is missing column(s) ${missing.map((c) => quoteIdent(c.name)).join(', ')} that the ${model.model} model writes. Add them: ${fix}`, {
      code: 'COLUMNS_MISSING',
    });
  }
  // A SUPER column fed JSON text would hold string scalars; a VARCHAR column fed SUPER would fail. Refuse either.
  const wanted = properties === 'super' ? 'super' : 'character varying';
  const wrong = model.columns.filter((c) => c.type === 'json' && columns.get(c.name) !== wanted);
  if (wrong.length > 0) {
    throw new DestinationError(
      'permanent',
      `Table ${name} has JSON column(s) ${wrong.map((c) => `${quoteIdent(c.name)} (${columns.get(c.name)})`).join(', ')} but ` +
        `properties_data_type is ${properties}: set properties_data_type to match the table, or use another table_name.`,
      { code: 'COLUMN_TYPE_MISMATCH' },
    );
  }
}

export async function ensureTable(client: Client, schema: string, table: string, model: ModelSchema, properties: PropertiesType): Promise<'created' | 'existing'> {
  await requireSchema(client, schema);
  const columns = await tableColumns(client, schema, table);
  if (columns) {
    checkExistingTable(columns, schema, table, model, properties);
    return 'existing';
  }
  await client.query(createTableSql(schema, table, model, properties));
  return 'created';
}
