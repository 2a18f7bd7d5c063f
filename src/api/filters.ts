/**
 * Property-filter validation at the API boundary, with the source's own rules (src/source/filters.ts), so a
 * filter the worker could not run is refused when the export is saved rather than failing every run later.
 */
import { validatePropertyFilters } from '../source/filters';
import type { StoredPropertyFilter } from '../store/entities';
import { badInput } from './errors';

/** Postgres jsonb cannot hold U+0000, so filters (stored as jsonb) may not contain it. */
function hasNul(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes('\\u0000');
}

export function validateFilters(filters: { key: string; operator: string; value?: unknown; type?: string | null }[], field = 'filters'): StoredPropertyFilter[] {
  return filters.map((f, i) => {
    const at = `${field}.${i}`;
    const candidate = { key: f.key, operator: f.operator, value: f.value ?? undefined, type: f.type ?? undefined };
    if (hasNul(f.key)) throw badInput(`${at}.key`, 'must not contain NUL characters (U+0000)');
    if (hasNul(f.value)) throw badInput(`${at}.value`, 'must not contain NUL characters (U+0000)');
    try {
      const [valid] = validatePropertyFilters([candidate]);
      return valid as unknown as StoredPropertyFilter;
    } catch (err) {
      // The source names the part as `filters[0].operator must be ...`.
      const m = /^filters\[0\](?:\.(\w+))?\s*(.*)$/s.exec((err as Error).message);
      throw badInput(m?.[1] ? `${at}.${m[1]}` : at, m ? `${m[1] ?? 'filter'} ${m[2]}` : (err as Error).message);
    }
  });
}
