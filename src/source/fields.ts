/**
 * Field selection: the columns one export writes, chosen from its model. Each field is a model column (`uuid`),
 * possibly renamed (`uuid AS id`), or a value extracted from a JSON column (`properties.$browser AS browser`, with
 * a type). The model's key and version columns must stay selected (renamed if wished): they are what makes a
 * retried run replace, not duplicate, its rows at the destination.
 *
 * A JSON path is the JSON column, then keys separated by dots (`properties.$set.email` reads `{"$set":{"email":..}}`).
 * Values are read through the readable copy of the document (json-document.ts), so a document with a lone
 * surrogate escape is read like any other. Extracted fields are always nullable (a property may be missing):
 * - string: a string property's text; any other JSON value as its JSON text (`5`, `true`, `{"a":1}`);
 * - number: a JSON number (or a numeric string) as a float, else NULL;
 * - boolean: a JSON true/false, else NULL;
 * - timestamp: a string ClickHouse reads as a date-time (ISO 8601 and the usual forms, taken as UTC), else NULL;
 * - json: the value's JSON text.
 * Every key travels as a query parameter.
 */
import { MODEL_SCHEMAS, type Column, type ColumnType, type Model, type ModelSchema } from '../sdk/models';
import type { QueryParams } from './filters';
import { readableJson } from './json-document';

export type FieldType = 'string' | 'number' | 'boolean' | 'timestamp' | 'json';
export const FIELD_TYPES: readonly FieldType[] = ['string', 'number', 'boolean', 'timestamp', 'json'];

export interface FieldSelection {
  /** A model column (`event`), or a JSON column and a path in it (`properties.$browser`). */
  source: string;
  /** Column name at the destination. Default: the model column's name; required for a JSON path. */
  alias?: string;
  /** For JSON paths: the type of the extracted value. Default: string. Model columns keep their own type. */
  type?: FieldType;
  /**
   * Not a column of the model but a value derived for a predefined layout (posthog-layout.ts); never accepted from
   * the API. `json_text`: the source column's text as a JSON string (`"a:b"`), NULL stays NULL; `empty_string`:
   * always ''; `export_time`: when the run read the row (UTC, microseconds).
   */
  derived?: DerivedValue;
  /** Layout-only (posthog-layout.ts): the column's `tableTypes` (src/sdk/models.ts). Never accepted from the API. */
  tableTypes?: readonly string[];
}

export type DerivedValue = 'json_text' | 'empty_string' | 'export_time';
const DERIVED_COLUMN: Record<DerivedValue, Omit<Column, 'name'>> = {
  json_text: { type: 'json', nullable: true },
  empty_string: { type: 'string', nullable: false },
  export_time: { type: 'timestamp', nullable: false },
};

/** What is wrong with a field, by position (`fields[2].alias`). */
export class FieldSelectionError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'FieldSelectionError';
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_FIELDS = 200;
const COLUMN_TYPE: Record<FieldType, ColumnType> = { string: 'string', number: 'float', boolean: 'bool', timestamp: 'timestamp', json: 'json' };

interface ResolvedField {
  name: string;
  column: Column;
  /** Model column read, and the path in it for JSON extraction. */
  from: string;
  path?: string[];
  type?: FieldType;
  derived?: DerivedValue;
}

function resolve(model: Model, fields: readonly FieldSelection[]): ResolvedField[] {
  const schema = MODEL_SCHEMAS[model];
  if (!Array.isArray(fields) || fields.length === 0) throw new FieldSelectionError('fields', 'list at least one field, or leave fields out to export every column');
  if (fields.length > MAX_FIELDS) throw new FieldSelectionError('fields', `at most ${MAX_FIELDS} fields`);
  const out: ResolvedField[] = [];
  fields.forEach((f, i) => {
    const at = `fields[${i}]`;
    const source = typeof f?.source === 'string' ? f.source.trim() : '';
    const derived: DerivedValue | undefined = f?.derived;
    if (derived !== undefined) {
      if (!Object.hasOwn(DERIVED_COLUMN, derived) || !f.alias || !IDENTIFIER.test(f.alias)) throw new FieldSelectionError(at, 'a derived value needs a known kind and a plain alias');
      const from = schema.columns.find((c) => c.name === source && c.type === 'string');
      if (derived === 'json_text' && !from) throw new FieldSelectionError(`${at}.source`, `json_text reads a string column of the ${model} model, not ${JSON.stringify(source)}`);
      out.push({ name: f.alias, column: { name: f.alias, ...DERIVED_COLUMN[derived] }, from: from?.name ?? '', derived });
      return;
    }
    const dot = source.indexOf('.');
    const columnName = dot < 0 ? source : source.slice(0, dot);
    const column = schema.columns.find((c) => c.name === columnName);
    const names = schema.columns.map((c) => c.name).join(', ');
    if (!column) throw new FieldSelectionError(`${at}.source`, `${JSON.stringify(source)} is not a column of the ${model} model (columns: ${names})`);
    if (f.type !== undefined && !FIELD_TYPES.includes(f.type)) throw new FieldSelectionError(`${at}.type`, `must be one of ${FIELD_TYPES.join(', ')}`);
    if (f.alias !== undefined && f.alias !== null && !IDENTIFIER.test(f.alias)) {
      throw new FieldSelectionError(`${at}.alias`, `${JSON.stringify(f.alias)} must be a plain name: letters, digits and underscores, not starting with a digit`);
    }
    if (dot < 0) {
      if (f.type !== undefined && f.type !== null) throw new FieldSelectionError(`${at}.type`, `${columnName} is a model column and keeps its type (${column.type}); a type applies to a JSON path such as properties.$browser`);
      const name = f.alias ?? column.name;
      out.push({ name, column: { ...column, name }, from: column.name });
      return;
    }
    if (column.type !== 'json') throw new FieldSelectionError(`${at}.source`, `${columnName} is not a JSON column: a path (after the dot) reads only ${schema.columns.filter((c) => c.type === 'json').map((c) => c.name).join(', ')}`);
    const path: string[] = source.slice(dot + 1).split('.');
    if (path.some((p) => p === '')) throw new FieldSelectionError(`${at}.source`, `${JSON.stringify(source)} has an empty key: write column.key or column.key.subkey`);
    if (!f.alias) throw new FieldSelectionError(`${at}.alias`, `a JSON path needs a column name: e.g. ${source} AS ${path[path.length - 1].replace(/[^A-Za-z0-9_]/g, '') || 'value'}`);
    const type: FieldType = f.type ?? 'string';
    out.push({ name: f.alias, column: { name: f.alias, type: COLUMN_TYPE[type], nullable: true }, from: column.name, path, type });
  });
  const seen = new Map<string, number>();
  out.forEach((r, i) => {
    if (seen.has(r.name)) throw new FieldSelectionError(`fields[${i}].alias`, `column ${r.name} is already produced by fields[${seen.get(r.name)}]: give it another alias`);
    seen.set(r.name, i);
  });
  for (const required of [...schema.key, ...schema.versionColumns]) {
    if (!out.some((r) => r.from === required && !r.path && !r.derived)) {
      throw new FieldSelectionError('fields', `the ${model} model's ${schema.versionColumns.includes(required) ? 'version' : 'key'} column ${required} must be selected (rename it if you like): it keeps runs exactly once at the destination`);
    }
  }
  return out;
}

/** Checks a selection; throws FieldSelectionError naming the field. */
export function validateFields(model: Model, fields: readonly FieldSelection[]): void {
  resolve(model, fields);
}

/** The schema an export with this selection writes (the model's own when there is no selection). */
export function fieldsSchema(model: Model, fields: readonly FieldSelection[] | undefined | null): ModelSchema {
  const schema = MODEL_SCHEMAS[model];
  if (!fields || fields.length === 0) return schema;
  const resolved = resolve(model, fields);
  const renamed = (c: string) => resolved.find((r) => r.from === c && !r.path && !r.derived)!.name;
  return {
    model,
    columns: resolved.map((r, i) => (fields[i].tableTypes?.length ? { ...r.column, tableTypes: fields[i].tableTypes } : r.column)),
    key: schema.key.map(renamed),
    versionColumns: schema.versionColumns.map(renamed),
    mutable: schema.mutable,
  };
}

/** `modelRowsSql` (the model's rows, all its columns) narrowed to the selection, in the selection's order. */
export function fieldsSql(model: Model, fields: readonly FieldSelection[], modelRowsSql: string, params: QueryParams): string {
  const exprs = resolve(model, fields).map((r) => `${r.derived ? derivedSql(r.derived, r.from) : r.path ? extractSql(r.from, r.path, r.type!, params) : `_f_${r.from}`} AS ${r.name}`);
  // The model's columns are renamed first, so that no alias of the selection shadows a column another field reads.
  const inner = MODEL_SCHEMAS[model].columns.map((c) => `${c.name} AS _f_${c.name}`).join(', ');
  return `SELECT ${exprs.join(', ')} FROM (SELECT ${inner} FROM (${modelRowsSql}))`;
}

function derivedSql(derived: DerivedValue, column: string): string {
  switch (derived) {
    case 'json_text':
      return `if(isNull(_f_${column}), NULL, toJSONString(_f_${column}))`;
    case 'empty_string':
      return `''`;
    case 'export_time':
      return `concat(replaceOne(toString(now64(6, 'UTC')), ' ', 'T'), 'Z')`;
  }
}

function extractSql(column: string, path: string[], type: FieldType, params: QueryParams): string {
  const doc = readableJson(`_f_${column}`);
  const keys = path.map((k) => params.add('String', k)).join(', ');
  switch (type) {
    case 'string':
      return `if(JSONType(${doc}, ${keys}) = 'String', JSONExtractString(${doc}, ${keys}), nullIf(JSONExtractRaw(${doc}, ${keys}), ''))`;
    case 'number':
      return `if(JSONType(${doc}, ${keys}) IN ('Int64', 'UInt64', 'Double'), JSONExtract(${doc}, ${keys}, 'Nullable(Float64)'), toFloat64OrNull(JSONExtract(${doc}, ${keys}, 'Nullable(String)')))`;
    case 'boolean':
      return `if(JSONType(${doc}, ${keys}) = 'Bool', JSONExtract(${doc}, ${keys}, 'Nullable(Bool)'), NULL)`;
    case 'timestamp': {
      const t = `parseDateTime64BestEffortOrNull(JSONExtractString(${doc}, ${keys}), 6, 'UTC')`;
      return `if(${t} IS NULL, NULL, concat(replaceOne(toString(${t}), ' ', 'T'), 'Z'))`;
    }
    case 'json':
      return `nullIf(JSONExtractRaw(${doc}, ${keys}), '')`;
  }
}
