import { DestinationError, ReplacementCounter, planSchemaChange } from '../../src/sdk';
import type { Column, ModelSchema, Row, SchemaChangePlan } from '../../src/sdk';

/** A field of a BigQuery table schema, as the REST API spells it. */
export interface BigQueryField {
  name: string;
  type: string;
  mode: 'NULLABLE' | 'REQUIRED';
}

export function bigQueryType(column: Column, useJsonType: boolean): string {
  switch (column.type) {
    case 'string':
      return 'STRING';
    case 'int':
      return 'INT64';
    case 'float':
      return 'FLOAT64';
    case 'bool':
      return 'BOOL';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'json':
      return useJsonType ? 'JSON' : 'STRING';
  }
}

export function bigQueryFields(schema: ModelSchema, useJsonType: boolean): BigQueryField[] {
  return schema.columns.map((c) => ({
    name: c.name,
    type: bigQueryType(c, useJsonType),
    mode: c.nullable ? 'NULLABLE' : 'REQUIRED',
  }));
}

// The API answers with legacy names (INTEGER, FLOAT, BOOLEAN) whatever the table was created with.
const LEGACY: Record<string, string> = { INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL' };
const canonicalType = (t: string) => LEGACY[t.toUpperCase()] ?? t.toUpperCase();

/** Other types of an existing column that hold every value of a type without loss, and that MERGE fills from it. */
const WIDER_TYPES: Partial<Record<Column['type'], string[]>> = { int: ['FLOAT64', 'NUMERIC', 'BIGNUMERIC'] };

/**
 * Compares an existing table with the export's columns (src/sdk/schema-evolution.ts): what EVOLVE adds and relaxes,
 * and the columns whose type cannot take the export's values. Names compare case-insensitively, as BigQuery does.
 */
export function planTableChange(existing: BigQueryField[], schema: ModelSchema, useJsonType: boolean): SchemaChangePlan {
  const wantedType = (c: Column) => bigQueryType(c, useJsonType);
  return planSchemaChange(
    schema,
    existing.map((f) => ({ name: f.name, type: canonicalType(f.type), required: f.mode === 'REQUIRED' })),
    {
      same: (type, c) => type === wantedType(c),
      accepts: (type, c) => type === wantedType(c) || (WIDER_TYPES[c.type] ?? []).includes(type),
      caseInsensitive: true,
    },
  );
}

/** The table's fields after applying a plan: new columns appended as NULLABLE, relaxed columns NULLABLE. */
export function evolvedFields(existing: BigQueryField[], plan: SchemaChangePlan, useJsonType: boolean): BigQueryField[] {
  const relaxed = new Set(plan.relax.map((c) => c.name.toLowerCase()));
  return [
    ...existing.map((f) => (relaxed.has(f.name.toLowerCase()) ? { ...f, mode: 'NULLABLE' as const } : f)),
    ...plan.add.map((c) => ({ name: c.name, type: bigQueryType(c, useJsonType), mode: 'NULLABLE' as const })),
  ];
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;
type MaybeWellFormed = string & { isWellFormed?(): boolean };
const isWellFormed = (s: string) => (s as MaybeWellFormed).isWellFormed?.() ?? !/[\uD800-\uDFFF]/u.test(s);

/**
 * Encodes rows as newline-delimited JSON for a load job. JSON columns stored as STRING are sent as JSON strings
 * (the text is kept byte for byte); stored as JSON they are sent as the document itself, which BigQuery
 * normalises (key order, whitespace, number spelling). Line breaks between JSON tokens are only whitespace,
 * so replacing them keeps the document and the one-row-per-line framing.
 *
 * An unpaired UTF-16 surrogate in a string or json value becomes U+FFFD (rule `lone_surrogate`, counted per column
 * in `replacements`): a BigQuery STRING is UTF-8, which cannot encode it, and the load would otherwise change or
 * refuse it out of sight.
 */
export class NdjsonEncoder {
  /** Values changed, per column and rule: what the run reports as `WriteResult.replacements`. */
  readonly replacements = new ReplacementCounter();

  constructor(
    private readonly schema: ModelSchema,
    private readonly useJsonType: boolean,
  ) {}

  line(row: Row): string {
    const parts: string[] = [];
    for (const c of this.schema.columns) {
      const v = row[c.name];
      parts.push(`${JSON.stringify(c.name)}:${this.value(c, v ?? null, row)}`);
    }
    return `{${parts.join(',')}}\n`;
  }

  private value(c: Column, v: string | number | boolean | null, row: Row): string {
    if (v === null) {
      if (!c.nullable) throw this.bad(c, row, 'is null but the column is required');
      return 'null';
    }
    switch (c.type) {
      case 'timestamp':
        if (typeof v !== 'string' || !ISO_UTC.test(v)) throw this.bad(c, row, `is not an ISO-8601 UTC timestamp: ${String(v).slice(0, 40)}`);
        return JSON.stringify(v);
      case 'json':
        if (typeof v !== 'string') throw this.bad(c, row, 'is not JSON text');
        v = this.replaceLoneSurrogates(c, v);
        if (!this.useJsonType) return JSON.stringify(v);
        try {
          JSON.parse(v);
        } catch {
          throw this.bad(c, row, 'is not valid JSON, which a BigQuery JSON column requires (set use_json_type to false to keep it as text)');
        }
        return v.replace(/[\r\n]/g, ' ');
      case 'int':
      case 'float':
        if (typeof v !== 'number' || !Number.isFinite(v)) throw this.bad(c, row, `is not a finite number: ${String(v)}`);
        return JSON.stringify(v);
      default:
        return JSON.stringify(typeof v === 'string' ? this.replaceLoneSurrogates(c, v) : v);
    }
  }

  private replaceLoneSurrogates(c: Column, v: string): string {
    if (isWellFormed(v)) return v;
    this.replacements.add(c.name, 'lone_surrogate');
    return v.replace(LONE_SURROGATES, '\uFFFD');
  }

  private bad(c: Column, row: Row, what: string): DestinationError {
    const key = this.schema.key.map((k) => `${k}=${JSON.stringify(row[k])}`).join(', ');
    return new DestinationError('permanent', `Row (${key}): column ${c.name} ${what}`, { code: 'BAD_ROW' });
  }
}

/** The timestamp with exactly six fractional digits, so that such strings order as the instants they name. */
export function sortableTimestamp(iso: string): string {
  const m = /^(.{19})(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (!m) throw new DestinationError('permanent', `Not an ISO-8601 UTC timestamp: ${iso.slice(0, 40)}`, { code: 'BAD_ROW' });
  return `${m[1]}.${(m[2] ?? '').padEnd(6, '0')}Z`;
}
