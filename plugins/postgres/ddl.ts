/**
 * The destination table: its documented schema (README.md, "Tables"), creation when missing, and the checks on a
 * table the user created: every model column present; for persons and sessions a unique index on exactly the
 * model's key (what `ON CONFLICT (key)` needs). Events need none (load.ts deletes and inserts under a lock), but
 * without any index on the key every run scans the whole table, which the run's log says.
 */
import type { Client } from 'pg';
import {
  DestinationError, describeAppliedPlan, planSchemaChange, schemaChangeError,
  type Column, type ColumnType, type ModelSchema, type SchemaChangePlan, type SchemaMode,
} from '../../src/sdk';
import { lostCreateRace, qualified, quoteIdent, requireSchema } from '../../src/sdk/pgwire';
import { displayName } from './identifiers';

export const PG_TYPES: Record<ColumnType, string> = {
  string: 'TEXT',
  int: 'BIGINT',
  float: 'DOUBLE PRECISION',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
  json: 'JSONB',
};

export function columnDefinition(column: Column, withNullability: boolean): string {
  const notNull = withNullability && !column.nullable ? ' NOT NULL' : '';
  return `${quoteIdent(column.name)} ${PG_TYPES[column.type]}${notNull}`;
}

export function createTableSql(schemaName: string, table: string, model: ModelSchema): string {
  const columns = model.columns.map((c) => columnDefinition(c, true));
  const key = model.key.map(quoteIdent).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${qualified(schemaName, table)} (\n  ${columns.join(',\n  ')},\n  PRIMARY KEY (${key})\n)`;
}

export interface TableInfo {
  oid: number;
  kind: string;
  /** `required`: NOT NULL without a default (a row that does not write the column fails). */
  columns: Map<string, { attnum: number; type: string; required: boolean }>;
  /** Column sets of the usable unique indexes (valid, not partial, no expressions), key columns only. */
  uniqueKeys: string[][];
  /** Key columns of every usable index, unique or not, in index order. */
  indexes: string[][];
}

export async function inspectTable(client: Client, schemaName: string, table: string): Promise<TableInfo | undefined> {
  const rel = await client.query<{ oid: number; relkind: string }>(
    `SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schemaName, table],
  );
  if (rel.rowCount === 0) return undefined;
  const { oid, relkind } = rel.rows[0];
  const cols = await client.query<{ attname: string; attnum: number; type: string; required: boolean }>(
    `SELECT attname, attnum, format_type(atttypid, atttypmod) AS type, attnotnull AND NOT atthasdef AND attidentity = '' AS required
       FROM pg_attribute
      WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
    [oid],
  );
  const idx = await client.query<{ keys: number[]; nkeys: number; unique: boolean }>(
    `SELECT indkey::int2[] AS keys, indnkeyatts AS nkeys, indisunique AS unique FROM pg_index
      WHERE indrelid = $1 AND indisvalid AND indpred IS NULL AND indexprs IS NULL`,
    [oid],
  );
  const byNum = new Map(cols.rows.map((c) => [c.attnum, c.attname]));
  const keyColumns = (r: { keys: number[]; nkeys: number }) => r.keys.slice(0, r.nkeys).map((n) => byNum.get(n) ?? `#${n}`);
  return {
    oid,
    kind: relkind,
    columns: new Map(cols.rows.map((c) => [c.attname, { attnum: c.attnum, type: c.type, required: c.required }])),
    uniqueKeys: idx.rows.filter((r) => r.unique).map(keyColumns),
    indexes: idx.rows.map(keyColumns),
  };
}

/** `format_type()` of the column types Outport creates (PG_TYPES). */
const FORMAT_TYPES: Record<ColumnType, string> = {
  string: 'text',
  int: 'bigint',
  float: 'double precision',
  bool: 'boolean',
  timestamp: 'timestamp with time zone',
  json: 'jsonb',
};

/**
 * Other column types of an existing table that hold every value of a type without loss, and that Postgres fills
 * from the stage's type by an assignment cast (text takes any value's text form). Integers are JS safe integers,
 * so a double holds them exactly.
 */
const WIDER_TYPES: Partial<Record<ColumnType, string[]>> = {
  string: ['character varying'],
  int: ['numeric', 'double precision', 'text', 'character varying'],
  float: ['numeric', 'text', 'character varying'],
  bool: ['text', 'character varying'],
  timestamp: ['text', 'character varying'],
  json: ['text', 'character varying'],
};

/**
 * Checks an existing table against the export's columns (`model`) and returns the changes EVOLVE makes to it (see
 * src/sdk/schema-evolution.ts). Throws a DestinationError naming what is wrong and how to fix it when the table
 * cannot take the export's rows, or when `mode` is FROZEN and the columns differ.
 */
export function checkExistingTable(info: TableInfo, schemaName: string, table: string, model: ModelSchema, mode?: SchemaMode): SchemaChangePlan {
  const name = displayName(schemaName, table);
  if (info.kind !== 'r' && info.kind !== 'p') {
    throw new DestinationError('permanent', `${name} exists but is not a table (relkind ${info.kind}); choose another table_name.`, {
      code: 'NOT_A_TABLE',
    });
  }
  const plan = planSchemaChange(model, [...info.columns].map(([n, c]) => ({ name: n, type: c.type, required: c.required })), {
    same: (type, column) => type === FORMAT_TYPES[column.type],
    accepts: (type, column) => type === FORMAT_TYPES[column.type] || (WIDER_TYPES[column.type] ?? []).includes(type),
  });
  const refused = schemaChangeError(plan, {
    mode,
    table: name,
    typeName: (c) => PG_TYPES[c.type],
    addStatement: (cs) => `ALTER TABLE ${qualified(schemaName, table)} ${cs.map((c) => `ADD COLUMN ${columnDefinition(c, false)}`).join(', ')};`,
    relaxStatement: (cs) => `ALTER TABLE ${qualified(schemaName, table)} ${cs.map((c) => `ALTER COLUMN ${quoteIdent(c.name)} DROP NOT NULL`).join(', ')};`,
  }, model);
  if (refused) throw refused;
  // Events are deleted and inserted by key under a lock (load.ts): a unique key is not needed.
  if (!model.mutable) return plan;
  const wanted = [...model.key].sort().join('\u0000');
  const covered = info.uniqueKeys.some((cols) => [...cols].sort().join('\u0000') === wanted);
  if (!covered) {
    const key = model.key.map(quoteIdent).join(', ');
    throw new DestinationError(
      'permanent',
      `Table ${name} has no primary key or unique constraint on exactly (${key}), which Outport needs to merge without ` +
        `duplicates. Remove duplicate rows if any, then run: ALTER TABLE ${qualified(schemaName, table)} ADD UNIQUE (${key});`,
      { code: 'KEY_CONSTRAINT_MISSING' },
    );
  }
  return plan;
}

/**
 * A warning for a table with no index whose leading columns are the model's key: each run then finds earlier
 * copies of its keys by reading the whole table.
 */
export function keyIndexAdvice(info: TableInfo, schemaName: string, table: string, model: ModelSchema): string | undefined {
  const wanted = [...model.key].sort().join('\u0000');
  if (info.indexes.some((cols) => cols.slice(0, model.key.length).sort().join('\u0000') === wanted)) return undefined;
  const key = model.key.map(quoteIdent).join(', ');
  return (
    `Table ${displayName(schemaName, table)} has no index on (${key}): every run reads the whole table to replace earlier ` +
    `copies of its rows, which grows slower as the table grows. Add one: CREATE INDEX ON ${qualified(schemaName, table)} (${key});`
  );
}

/**
 * Creates the table when missing, or checks the one that exists and evolves it (`evolved`: what changed, for the
 * run's log; `advice`: what would make runs faster).
 */
export async function ensureTable(
  client: Client,
  schemaName: string,
  table: string,
  model: ModelSchema,
  mode?: SchemaMode,
): Promise<{ state: 'created' | 'existing'; advice?: string; evolved?: string; otherTypes: string[] }> {
  await requireSchema(client, schemaName);
  const info = await inspectTable(client, schemaName, table);
  if (info) {
    const plan = checkExistingTable(info, schemaName, table, model, mode);
    const alterations = [
      // IF NOT EXISTS: two runs evolving the same table at once both succeed.
      ...plan.add.map((c) => `ADD COLUMN IF NOT EXISTS ${columnDefinition(c, false)}`),
      ...plan.relax.map((c) => `ALTER COLUMN ${quoteIdent(c.name)} DROP NOT NULL`),
    ];
    if (alterations.length) await client.query(`ALTER TABLE ${qualified(schemaName, table)} ${alterations.join(', ')}`);
    // Added columns get Outport's types; a kept column of another type takes the value by an assignment cast.
    const otherTypes = model.columns.filter((c) => info.columns.has(c.name) && info.columns.get(c.name)!.type !== FORMAT_TYPES[c.type]).map((c) => c.name);
    return { state: 'existing', advice: keyIndexAdvice(info, schemaName, table, model), evolved: describeAppliedPlan(plan, displayName(schemaName, table)), otherTypes };
  }
  try {
    await client.query(createTableSql(schemaName, table, model));
  } catch (err) {
    if (!lostCreateRace(err)) throw err; // two runs creating the same table at once: it exists now
  }
  return { state: 'created', otherTypes: [] };
}
