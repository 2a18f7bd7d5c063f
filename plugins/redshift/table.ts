/** The destination table (created when missing, checked when it exists) and the per-run stage's name. */
import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import {
  DestinationError, describeAppliedPlan, planSchemaChange, schemaChangeError,
  type Column, type ColumnType, type ModelSchema, type SchemaChangePlan, type SchemaMode,
} from '../../src/sdk';
import { qualified, quoteIdent, requireSchema } from '../../src/sdk/pgwire';
import { columnDefinition, columnType, createTableSql, type PropertiesType } from './sql';

export const STAGE_PREFIX = '_outport_stage_';

/** Same name for every attempt of a run, so a leftover of a killed attempt is found and replaced. */
export function stageTableName(runId: string): string {
  return STAGE_PREFIX + createHash('sha256').update(runId).digest('hex').slice(0, 24);
}

/** Column name -> information_schema data_type, or undefined when the table does not exist. */
export async function tableColumns(client: Client, schema: string, table: string): Promise<Map<string, string> | undefined> {
  return (await describeTable(client, schema, table))?.types;
}

/** The table's column types and which columns refuse NULL without a default, or undefined when it does not exist. */
async function describeTable(client: Client, schema: string, table: string): Promise<{ types: Map<string, string>; required: Set<string> } | undefined> {
  const { rows } = await client.query<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
    'SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
    [schema, table],
  );
  if (!rows.length) return undefined;
  return {
    types: new Map(rows.map((r) => [r.column_name, r.data_type.toLowerCase()])),
    required: new Set(rows.filter((r) => r.is_nullable === 'NO' && r.column_default === null).map((r) => r.column_name)),
  };
}

/** information_schema's data_type of the column types Outport creates (sql.ts). */
const DATA_TYPES: Record<Exclude<ColumnType, 'json'>, string> = {
  string: 'character varying',
  int: 'bigint',
  float: 'double precision',
  bool: 'boolean',
  timestamp: 'timestamp with time zone',
};
/** Other types of an existing column that hold every value without loss (integers are JS safe integers). */
const WIDER_TYPES: Partial<Record<ColumnType, string[]>> = { int: ['double precision'] };

/**
 * Checks an existing table against the export's columns and returns the changes EVOLVE makes (see
 * src/sdk/schema-evolution.ts); throws an error naming what is wrong and the statement that fixes it.
 */
export function checkExistingTable(
  columns: Map<string, string>,
  schema: string,
  table: string,
  model: ModelSchema,
  properties: PropertiesType,
  mode?: SchemaMode,
  required: Set<string> = new Set(),
): SchemaChangePlan {
  const name = qualified(schema, table);
  // A SUPER column fed JSON text would hold string scalars; a VARCHAR column fed SUPER would fail. Refuse either.
  const wanted = properties === 'super' ? 'super' : 'character varying';
  const wrong = model.columns.filter((c) => c.type === 'json' && columns.has(c.name) && columns.get(c.name) !== wanted);
  if (wrong.length > 0) {
    throw new DestinationError(
      'permanent',
      `Table ${name} has JSON column(s) ${wrong.map((c) => `${quoteIdent(c.name)} (${columns.get(c.name)})`).join(', ')} but ` +
        `properties_data_type is ${properties}: set properties_data_type to match the table, or use another table_name.`,
      { code: 'COLUMN_TYPE_MISMATCH' },
    );
  }
  const expected = (c: Column) => (c.type === 'json' ? wanted : DATA_TYPES[c.type]);
  const plan = planSchemaChange(model, [...columns].map(([n, type]) => ({ name: n, type, required: required.has(n) })), {
    same: (type, c) => type === expected(c),
    accepts: (type, c) => type === expected(c) || (WIDER_TYPES[c.type] ?? []).includes(type),
  });
  const refused = schemaChangeError(plan, {
    mode,
    table: name,
    typeName: (c) => columnType(c, properties),
    addStatement: (cs) => cs.map((c) => `ALTER TABLE ${name} ADD COLUMN ${columnDefinition(c, properties, false)};`).join(' '),
    cannotRelax: 'Redshift cannot make a column nullable in place',
  }, model);
  if (refused) throw refused;
  return plan;
}

/** Creates the table, or checks and evolves the one that exists (`evolved`: what changed, for the run's log). */
export async function ensureTable(
  client: Client,
  schema: string,
  table: string,
  model: ModelSchema,
  properties: PropertiesType,
  mode?: SchemaMode,
): Promise<'created' | 'existing' | { evolved: string }> {
  await requireSchema(client, schema);
  const described = await describeTable(client, schema, table);
  if (described) {
    const plan = checkExistingTable(described.types, schema, table, model, properties, mode, described.required);
    // One column per statement: Redshift's ADD COLUMN takes one. A run adding the same column at once wins the race.
    for (const c of plan.add) {
      try {
        await client.query(`ALTER TABLE ${qualified(schema, table)} ADD COLUMN ${columnDefinition(c, properties, false)}`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42701') throw err;
      }
    }
    const evolved = describeAppliedPlan(plan, qualified(schema, table));
    return evolved ? { evolved } : 'existing';
  }
  await client.query(createTableSql(schema, table, model, properties));
  return 'created';
}
