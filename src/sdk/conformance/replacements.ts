/**
 * How the kit decides that a write reported its replacements: every value read back that differs from the value
 * written must be covered by `WriteResult.replacements` on its column, and the counts must match the values that
 * changed. Values are compared as in ./compare (json by parsed value, timestamps as instants), but WITHOUT the
 * fixture's `expectedValue` rule: a documented lossy rule is still a change, and changes are what gets reported.
 */
import type { Column, ModelSchema, Row, Value } from '../models';
import type { Replacement } from '../replacements';
import { compareValue, keyOf, show } from './compare';

/** True when `read` holds the value that was written (json by parsed value, timestamps as instants). */
export function sameValue(column: Column, written: Value, read: Value | undefined): boolean {
  if (Object.is(written, read)) return true;
  return compareValue(column, written, read) === undefined;
}

interface ColumnChanges {
  count: number;
  example: string;
}

function describeReported(list: Replacement[]): string {
  return list.map((r) => `${r.rule}: ${r.count}`).join(', ');
}

/**
 * Every way `reported` fails to account for the differences between `written` and `back` (rows matched by key;
 * rows missing from `back` are left to the row comparison), as readable lines. Empty when it accounts for them.
 *
 * Per column, with N values that differ: no replacement may be reported when N is 0; when N > 0 the counts must add
 * up to at least N (each changed value counted by the rule that changed it) and no rule may count more than N
 * (a value changed by two rules, e.g. NUL and a lone surrogate, counts once under each).
 */
export function replacementProblems(schema: ModelSchema, written: Row[], back: Row[], reported: readonly Replacement[] | undefined): string[] {
  const problems: string[] = [];
  if (reported !== undefined && !Array.isArray(reported)) return [`WriteResult.replacements must be an array, got ${show(reported)}`];

  const byKey = new Map(back.map((r) => [keyOf(schema, r), r]));
  const changes = new Map<string, ColumnChanges>();
  for (const row of written) {
    const got = byKey.get(keyOf(schema, row));
    if (!got) continue;
    for (const column of schema.columns) {
      if (sameValue(column, row[column.name], got[column.name])) continue;
      const seen = changes.get(column.name);
      if (seen) seen.count++;
      else changes.set(column.name, { count: 1, example: `wrote ${show(row[column.name])}, read back ${show(got[column.name])}` });
    }
  }

  const columns = new Set(schema.columns.map((c) => c.name));
  const byColumn = new Map<string, Replacement[]>();
  for (const r of reported ?? []) {
    if (!r || typeof r.column !== 'string' || !columns.has(r.column)) {
      problems.push(`a replacement names column ${show(r?.column)}, which is not a column of the ${schema.model} model: ${show(r)}`);
      continue;
    }
    if (typeof r.rule !== 'string' || r.rule === '') problems.push(`the replacement on column ${r.column} has no rule id: ${show(r)}`);
    if (!Number.isInteger(r.count) || r.count <= 0) problems.push(`the replacement on column ${r.column} (rule ${show(r.rule)}) must count a whole number of values > 0, got ${show(r.count)}`);
    byColumn.set(r.column, [...(byColumn.get(r.column) ?? []), r]);
  }

  for (const column of schema.columns.map((c) => c.name)) {
    const changed = changes.get(column);
    const list = byColumn.get(column) ?? [];
    const n = changed?.count ?? 0;
    if (n === 0 && list.length === 0) continue;
    if (n === 0) {
      problems.push(`column ${column}: replacements reported (${describeReported(list)}), but every value read back equals the value written`);
      continue;
    }
    if (list.length === 0) {
      problems.push(
        `column ${column}: ${n} value(s) read back differ from the values written (e.g. ${changed!.example}), but no replacement was reported ` +
          'for the column: store values unchanged, or change them by a documented rule and count each changed value in WriteResult.replacements',
      );
      continue;
    }
    const sum = list.reduce((s, r) => s + (Number.isFinite(r.count) ? r.count : 0), 0);
    if (sum < n) {
      problems.push(`column ${column}: ${n} value(s) read back differ from the values written (e.g. ${changed!.example}), but the replacements reported count only ${sum} (${describeReported(list)})`);
    }
    for (const r of list) {
      if (r.count > n) problems.push(`column ${column}: rule ${r.rule} reports ${r.count} value(s) changed, but only ${n} value(s) read back differ from the values written`);
    }
  }
  return problems;
}
