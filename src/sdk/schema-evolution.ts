/**
 * Schema evolution: what a table destination does when the table it writes to and the columns an export writes
 * (`RunContext.schema`) differ. The columns of an export change over time: a field is added to its selection, a
 * custom query gains an output column, a newer Outport adds a column to a model.
 *
 * Rules, the same for every table destination (each plugin supplies its own types and statements):
 * - a column the export writes and the table lacks is added, nullable (rows already stored read NULL), unless the
 *   export's schema is FROZEN: then the run fails with a `config` error saying how to proceed;
 * - a table column the export no longer writes is left alone, and new rows hold NULL there; if the column refuses
 *   NULL (NOT NULL / REQUIRED) it is made nullable under EVOLVE (its data is kept), and refused under FROZEN; the
 *   same for a NOT NULL column the export now writes as nullable;
 * - a column whose type in the table differs from the export's is kept as the table has it when every value of the
 *   export's type converts to it without loss (`accepts`), else the run fails with a `config` error naming the
 *   column and the fix. Key and version columns must have exactly the expected type: the merge compares them.
 * Nothing here ever drops a column or changes a type: user data is never lost.
 */
import { DestinationError } from './destination';
import type { Column, ModelSchema } from './models';

/**
 * How an export treats a destination whose columns differ from what it writes (see the header).
 * `EVOLVE` (the default): add missing columns, relax columns it no longer writes. `FROZEN`: fail instead.
 */
export type SchemaMode = 'EVOLVE' | 'FROZEN';
export const SCHEMA_MODES: readonly SchemaMode[] = ['EVOLVE', 'FROZEN'];
export const DEFAULT_SCHEMA_MODE: SchemaMode = 'EVOLVE';

/** A column of an existing table, as the destination's catalog describes it. */
export interface TableColumn {
  name: string;
  /** The type as the destination names it (`bigint`, `INT64`, `NUMBER(38,0)`). */
  type: string;
  /** True when the column refuses NULL and has no default: rows that do not write it would fail. */
  required: boolean;
}

export interface SchemaChangePlan {
  /** Columns the export writes that the table lacks. */
  add: Column[];
  /** Table columns that refuse NULL but that the export does not write, or writes as nullable. */
  relax: TableColumn[];
  /** Columns whose table type cannot hold the export's values. */
  retyped: { column: Column; tableType: string }[];
}

export interface PlanOptions {
  /** True when a table column of type `tableType` holds every value of `column` without loss. */
  accepts(tableType: string, column: Column): boolean;
  /** True when `tableType` is exactly the type the destination gives `column` (required of key and version columns). */
  same(tableType: string, column: Column): boolean;
  /** Column names compare case-insensitively (BigQuery, Snowflake). Default: false. */
  caseInsensitive?: boolean;
}

/** Compares the export's columns with the table's. */
export function planSchemaChange(schema: ModelSchema, table: readonly TableColumn[], o: PlanOptions): SchemaChangePlan {
  const norm = (n: string) => (o.caseInsensitive ? n.toLowerCase() : n);
  const byName = new Map(table.map((c) => [norm(c.name), c]));
  // Columns the export may leave NULL: those it does not write, and those it writes as nullable.
  const alwaysSet = new Set(schema.columns.filter((c) => !c.nullable).map((c) => norm(c.name)));
  const compared = new Set([...schema.key, ...schema.versionColumns].map(norm));
  const plan: SchemaChangePlan = { add: [], relax: [], retyped: [] };
  for (const column of schema.columns) {
    const existing = byName.get(norm(column.name));
    if (!existing) plan.add.push(column);
    else if (column.tableTypes?.includes(existing.type)) continue;
    else if (compared.has(norm(column.name)) ? !o.same(existing.type, column) : !o.accepts(existing.type, column)) {
      plan.retyped.push({ column, tableType: existing.type });
    }
  }
  for (const c of table) if (c.required && !alwaysSet.has(norm(c.name))) plan.relax.push(c);
  return plan;
}

export const isEmptyPlan = (p: SchemaChangePlan) => p.add.length === 0 && p.relax.length === 0 && p.retyped.length === 0;

export interface PlanErrorOptions {
  mode: SchemaMode | undefined;
  /** The table as the user knows it (`"public"."events"`, `project:dataset.table`). */
  table: string;
  /** The destination's name for the export's type of a column (`TEXT`, `INT64`). */
  typeName(column: Column): string;
  /** Statements a user can run to make the change themselves, when the destination has them. */
  addStatement?(columns: Column[]): string;
  relaxStatement?(columns: TableColumn[]): string;
  /** Set when the destination cannot make a column nullable by itself (Redshift): relaxing is then an error. */
  cannotRelax?: string;
}

const names = (cs: { name: string }[]) => cs.map((c) => c.name).join(', ');

/**
 * The error that stops the run, or undefined when the plan may be applied: a missing key column (given `schema`)
 * and retyped columns always stop it; under FROZEN, so does any other change.
 */
export function schemaChangeError(plan: SchemaChangePlan, o: PlanErrorOptions, schema?: ModelSchema): DestinationError | undefined {
  const missingKey = schema ? plan.add.filter((c) => schema.key.includes(c.name)) : [];
  if (missingKey.length) {
    return new DestinationError(
      'config',
      `Table ${o.table} has no column ${names(missingKey)}, which identifies the export's rows (its key: ${schema!.key.join(', ')}): ` +
        `the table holds other data (another model, another export, or a key renamed since). To proceed: set the destination's ` +
        `table name to a table of this export's own, or give the key field its earlier name again.`,
      { code: 'KEY_COLUMNS_MISSING' },
    );
  }
  if (plan.retyped.length) {
    const list = plan.retyped.map((r) => `${r.column.name} is ${r.tableType} but the export writes ${o.typeName(r.column)} (${r.column.type}) values`).join('; ');
    return new DestinationError(
      'config',
      `Table ${o.table}: column ${list}, which that type cannot hold without loss. Outport never changes a column's type ` +
        `(that could lose data). To proceed: change the column's type yourself (to ${plan.retyped.map((r) => `${r.column.name} ${o.typeName(r.column)}`).join(', ')}), ` +
        `or give the field another name (alias) in the export, or set the destination's table name to a new table.`,
      { code: 'COLUMN_TYPE_MISMATCH' },
    );
  }
  const frozen = o.mode === 'FROZEN';
  if (frozen && (plan.add.length || plan.relax.length)) {
    const parts: string[] = [];
    if (plan.add.length) parts.push(`lacks column(s) ${names(plan.add)} that the export now writes`);
    if (plan.relax.length) parts.push(`has NOT NULL column(s) ${names(plan.relax)} that the export no longer writes, or writes as nullable`);
    const yourself = [plan.add.length && o.addStatement?.(plan.add), plan.relax.length && o.relaxStatement?.(plan.relax)].filter(Boolean);
    return new DestinationError(
      'config',
      `Table ${o.table} ${parts.join(' and ')}, and the export's schemaMode is FROZEN. To proceed: set the export's ` +
        `schemaMode to EVOLVE (Outport then adds missing columns as nullable and makes unwritten columns nullable, keeping ` +
        `every stored row)${yourself.length ? `, or change the table yourself: ${yourself.join(' ')}` : ''}, or change the export's fields back.`,
      { code: 'SCHEMA_FROZEN' },
    );
  }
  if (plan.relax.length && o.cannotRelax) {
    return new DestinationError(
      'config',
      `Table ${o.table} has NOT NULL column(s) ${names(plan.relax)} that the export no longer writes (or writes as nullable), and ` +
        `${o.cannotRelax}. To proceed: select those fields in the export again, or set the destination's table name to a new table.`,
      { code: 'COLUMNS_NOT_WRITTEN' },
    );
  }
  return undefined;
}

/** A line for the run's log describing an applied plan, or undefined when nothing changed. */
export function describeAppliedPlan(plan: SchemaChangePlan, table: string): string | undefined {
  const parts: string[] = [];
  if (plan.add.length) parts.push(`added column(s) ${names(plan.add)} (nullable; rows already stored hold NULL)`);
  if (plan.relax.length) parts.push(`made column(s) ${names(plan.relax)} nullable (the export may leave them NULL; their data is kept)`);
  return parts.length ? `Schema of ${table} evolved: ${parts.join('; ')}.` : undefined;
}
