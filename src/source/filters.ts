/**
 * Property filters on events, pushed into SQL. The key and the value always travel as query parameters, so a
 * filter can hold any text (quotes, NUL, emoji) without touching the SQL.
 *
 * Filters read the documents through their readable copies (json-document.ts), which a query defines with
 * `WITH readableJsonColumns()`: a document holding a lone surrogate escape is filtered like any other, that
 * surrogate reading as U+FFFD. A lone surrogate in a filter's key or value reads as U+FFFD too, so it matches the
 * document it was copied from.
 */
import { readableJson, wellFormedText } from './json-document';

export type PropertyFilterOperator =
  | 'exact' | 'is_not' | 'icontains' | 'not_icontains' | 'regex' | 'is_set' | 'is_not_set' | 'gt' | 'lt';

export const PROPERTY_FILTER_OPERATORS: readonly PropertyFilterOperator[] = [
  'exact', 'is_not', 'icontains', 'not_icontains', 'regex', 'is_set', 'is_not_set', 'gt', 'lt',
];

export interface PropertyFilter {
  /** Top-level property name, e.g. `$browser`. */
  key: string;
  operator: PropertyFilterOperator;
  /**
   * - exact / is_not: a string, number or boolean, or a list of them (matches any / none). Compared as text:
   *   a string property by its value, any other JSON value by its JSON text (`5`, `true`).
   * - icontains / not_icontains / regex (RE2 syntax): a string.
   * - gt / lt: a finite number (compared numerically; non-numeric properties never match).
   * - is_set / is_not_set: no value.
   */
  value?: string | number | boolean | (string | number | boolean)[];
  /** Which JSON column to look in. Default: `event` (the event's `properties`). */
  type?: 'event' | 'person';
}

const MAX_KEY = 1000;

/** Throws an error naming the offending filter (by position) and what is wrong with it. */
export function validatePropertyFilters(filters: unknown): PropertyFilter[] {
  if (filters === undefined || filters === null) return [];
  if (!Array.isArray(filters)) throw new Error('property filters must be an array');
  return filters.map((f, i) => validateOne(f, `filters[${i}]`));
}

function validateOne(f: unknown, where: string): PropertyFilter {
  if (typeof f !== 'object' || f === null) throw new Error(`${where} must be an object`);
  const { key, operator, value, type } = f as Record<string, unknown>;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) {
    throw new Error(`${where}.key must be a non-empty string of at most ${MAX_KEY} characters`);
  }
  if (!PROPERTY_FILTER_OPERATORS.includes(operator as PropertyFilterOperator)) {
    throw new Error(`${where}.operator must be one of ${PROPERTY_FILTER_OPERATORS.join(', ')} (got ${JSON.stringify(operator)})`);
  }
  if (type !== undefined && type !== 'event' && type !== 'person') throw new Error(`${where}.type must be 'event' or 'person'`);
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
  switch (operator as PropertyFilterOperator) {
    case 'exact':
    case 'is_not':
      if (Array.isArray(value) ? value.length === 0 || !value.every(scalar) : !scalar(value)) {
        throw new Error(`${where}.value must be a string, number or boolean, or a non-empty list of them, for ${operator}`);
      }
      break;
    case 'icontains':
    case 'not_icontains':
    case 'regex':
      if (typeof value !== 'string' || (operator === 'regex' && value.length === 0)) {
        throw new Error(`${where}.value must be a ${operator === 'regex' ? 'non-empty ' : ''}string for ${operator}`);
      }
      break;
    case 'gt':
    case 'lt': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${where}.value must be a finite number for ${operator}`);
      return { key: wellFormedText(key), operator: operator as PropertyFilterOperator, value: n, type: (type as PropertyFilter['type']) ?? 'event' };
    }
    case 'is_set':
    case 'is_not_set':
      if (value !== undefined && value !== null) throw new Error(`${where}.value must be absent for ${operator}`);
      return { key: wellFormedText(key), operator: operator as PropertyFilterOperator, type: (type as PropertyFilter['type']) ?? 'event' };
  }
  const text = (v: unknown) => (typeof v === 'string' ? wellFormedText(v) : v);
  return {
    key: wellFormedText(key),
    operator: operator as PropertyFilterOperator,
    value: (Array.isArray(value) ? value.map(text) : text(value)) as PropertyFilter['value'],
    type: (type as PropertyFilter['type']) ?? 'event',
  };
}

/** Collects query parameters under generated names; SQL only ever sees `{name:Type}`. */
export class QueryParams {
  readonly values: Record<string, unknown> = {};
  private n = 0;

  add(type: string, value: unknown): string {
    const name = `p${this.n++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

/** Aliases of the readable copies of the events table's JSON columns. */
export const READABLE_JSON = { properties: '_properties_json', person_properties: '_person_properties_json' } as const;

/** The WITH list defining READABLE_JSON over the events table (an alias no expression uses costs nothing). */
export function readableJsonColumns(): string {
  return Object.entries(READABLE_JSON).map(([column, alias]) => `${readableJson(column)} AS ${alias}`).join(',\n');
}

/** SQL conditions (ANDed) for validated filters over the events table columns; the query must define READABLE_JSON. */
export function propertyFilterSql(filters: readonly PropertyFilter[], params: QueryParams): string[] {
  return filters.map((f) => {
    const column = f.type === 'person' ? READABLE_JSON.person_properties : READABLE_JSON.properties;
    const key = params.add('String', f.key);
    // A string property compares by its value, anything else by its JSON text.
    const text = `if(JSONType(${column}, ${key}) = 'String', JSONExtractString(${column}, ${key}), JSONExtractRaw(${column}, ${key}))`;
    const list = () => params.add('Array(String)', (Array.isArray(f.value) ? f.value : [f.value]).map(String));
    switch (f.operator) {
      case 'exact':
        return `(JSONHas(${column}, ${key}) AND ${text} IN ${list()})`;
      case 'is_not':
        return `(NOT JSONHas(${column}, ${key}) OR ${text} NOT IN ${list()})`;
      case 'icontains':
        return `(JSONHas(${column}, ${key}) AND positionCaseInsensitiveUTF8(${text}, ${params.add('String', f.value)}) > 0)`;
      case 'not_icontains':
        return `(NOT JSONHas(${column}, ${key}) OR positionCaseInsensitiveUTF8(${text}, ${params.add('String', f.value)}) = 0)`;
      case 'regex':
        return `(JSONHas(${column}, ${key}) AND match(${text}, ${params.add('String', f.value)}))`;
      case 'is_set':
        return `JSONHas(${column}, ${key})`;
      case 'is_not_set':
        return `NOT JSONHas(${column}, ${key})`;
      case 'gt':
        return `(toFloat64OrNull(${text}) > ${params.add('Float64', f.value)})`;
      case 'lt':
        return `(toFloat64OrNull(${text}) < ${params.add('Float64', f.value)})`;
    }
  });
}
