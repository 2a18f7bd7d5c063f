/**
 * Property-filter validation at the API boundary, so a bad filter is refused when the export is saved rather
 * than failing every run later. Operators follow PostHog's names.
 */
import type { StoredPropertyFilter } from '../store/entities';
import { badInput } from './errors';

export const FILTER_OPERATORS = ['exact', 'is_not', 'icontains', 'not_icontains', 'regex', 'not_regex', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'] as const;
const NO_VALUE = new Set(['is_set', 'is_not_set']);
const NUMERIC = new Set(['gt', 'gte', 'lt', 'lte']);
const VALUE_MAX = 10_000;

export function validateFilters(filters: { key: string; operator: string; value?: unknown }[], field = 'filters'): StoredPropertyFilter[] {
  return filters.map((f, i) => {
    const at = `${field}.${i}`;
    const key = f.key.trim();
    if (!key) throw badInput(`${at}.key`, 'must not be empty');
    if (key.includes('\u0000')) throw badInput(`${at}.key`, 'must not contain NUL characters');
    if (!(FILTER_OPERATORS as readonly string[]).includes(f.operator)) {
      throw badInput(`${at}.operator`, `unknown operator ${JSON.stringify(f.operator)}; expected one of ${FILTER_OPERATORS.join(', ')}`);
    }
    const value = f.value ?? null;
    if (NO_VALUE.has(f.operator)) {
      if (value !== null) throw badInput(`${at}.value`, `${f.operator} takes no value`);
      return { key, operator: f.operator };
    }
    if (value === null) throw badInput(`${at}.value`, `${f.operator} needs a value`);
    if (NUMERIC.has(f.operator)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw badInput(`${at}.value`, `${f.operator} compares numbers; got ${JSON.stringify(value)}`);
    } else if (Array.isArray(value)) {
      if (!['exact', 'is_not'].includes(f.operator)) throw badInput(`${at}.value`, `a list of values is allowed only with exact and is_not`);
      if (value.length === 0 || value.some((v) => typeof v !== 'string')) throw badInput(`${at}.value`, 'must be a non-empty list of strings');
    } else if (typeof value !== 'string' && typeof value !== 'number') {
      throw badInput(`${at}.value`, 'must be a string, a number or a list of strings');
    }
    if (JSON.stringify(value).length > VALUE_MAX) throw badInput(`${at}.value`, `must be at most ${VALUE_MAX} characters`);
    if ((f.operator === 'regex' || f.operator === 'not_regex') && typeof value === 'string') {
      try {
        new RegExp(value);
      } catch (e) {
        throw badInput(`${at}.value`, `not a valid regular expression: ${(e as Error).message}`);
      }
    }
    if (typeof value === 'string' && value.includes('\u0000')) throw badInput(`${at}.value`, 'must not contain NUL characters');
    return { key, operator: f.operator, value: value as StoredPropertyFilter['value'] };
  });
}
