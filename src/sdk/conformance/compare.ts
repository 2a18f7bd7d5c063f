/**
 * How the kit decides that what landed equals what was written.
 * Rows are matched by the model's key; json columns are compared after JSON.parse (deep equal, key order
 * ignored); timestamps as instants at microsecond precision; everything else with strict equality after the
 * fixture's `expectedValue` rule.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Column, Model, ModelSchema, Row, Value } from '../models';

export type ExpectedValueRule = (column: Column, value: Value, model: Model) => Value;

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Epoch microseconds of an ISO-like timestamp (`T` or space, 0-9 fractional digits, `Z`/offset/none = UTC). */
export function timestampMicros(value: unknown): bigint | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TIMESTAMP.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0)) * 60_000;
  }
  return BigInt(ms) * 1000n + BigInt((frac + '000000').slice(0, 6));
}

/** A short, escaped rendering of a value for failure messages (100 KB strings would drown the report). */
export function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 100)}… (${text.length} chars)` : text;
}

function parseJson(value: Value): { ok: true; value: unknown } | { ok: false } {
  if (typeof value !== 'string') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(value) };
  } catch {
    return { ok: false };
  }
}

/** Undefined when equal, else why not. */
export function compareValue(column: Column, expected: Value, actual: Value | undefined): string | undefined {
  if (actual === undefined) return 'column missing from the row read back';
  if (expected === null || actual === null) return expected === actual ? undefined : `expected ${show(expected)}, got ${show(actual)}`;
  if (column.type === 'json') {
    const e = parseJson(expected);
    const a = parseJson(actual);
    if (!a.ok) return `expected JSON text, got ${show(actual)} (not parseable JSON text)`;
    if (!e.ok) return `the expected value ${show(expected)} is not JSON text (check expectedValue)`;
    return isDeepStrictEqual(e.value, a.value) ? undefined : `JSON differs: expected ${show(expected)}, got ${show(actual)}`;
  }
  if (column.type === 'timestamp') {
    const e = timestampMicros(expected);
    const a = timestampMicros(actual);
    if (a === undefined) return `expected an ISO timestamp, got ${show(actual)}`;
    return e === a ? undefined : `expected instant ${show(expected)}, got ${show(actual)}`;
  }
  return Object.is(expected, actual) ? undefined : `expected ${show(expected)} (${typeof expected}), got ${show(actual)} (${typeof actual})`;
}

export function applyExpectedValue(schema: ModelSchema, row: Row, rule?: ExpectedValueRule): Row {
  if (!rule) return row;
  const out: Row = {};
  for (const c of schema.columns) out[c.name] = rule(c, row[c.name], schema.model);
  return out;
}

export function keyOf(schema: ModelSchema, row: Row): string {
  return JSON.stringify(schema.key.map((k) => row[k]));
}

/**
 * Every difference between the rows expected at the destination and the rows read back, as readable lines
 * (at most `limit`). An empty list means equal.
 */
export function diffRows(schema: ModelSchema, expected: Row[], actual: Row[], rule?: ExpectedValueRule, limit = 25): string[] {
  const diffs: string[] = [];
  const want = new Map<string, Row>();
  for (const row of expected) want.set(keyOf(schema, applyExpectedValue(schema, row, rule)), applyExpectedValue(schema, row, rule));
  const seen = new Map<string, number>();
  for (const row of actual) {
    const key = keyOf(schema, row);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  for (const [key, n] of seen) {
    if (n > 1) diffs.push(`key ${show(key)} landed ${n} times (duplicates)`);
    if (!want.has(key)) diffs.push(`unexpected row with key ${show(key)}`);
  }
  for (const key of want.keys()) if (!seen.has(key)) diffs.push(`missing row with key ${show(key)}`);
  const byKey = new Map(actual.map((r) => [keyOf(schema, r), r]));
  for (const [key, exp] of want) {
    const got = byKey.get(key);
    if (!got) continue;
    for (const column of schema.columns) {
      const why = compareValue(column, exp[column.name], got[column.name]);
      if (why) diffs.push(`key ${show(key)}, column ${column.name}: ${why}`);
    }
  }
  if (actual.length !== expected.length) diffs.unshift(`expected ${expected.length} rows, read back ${actual.length}`);
  return diffs.length > limit ? [...diffs.slice(0, limit), `… and ${diffs.length - limit} more differences`] : diffs;
}
