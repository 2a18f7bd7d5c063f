/**
 * The one transaction that moves a run from its stage into the final table.
 * - events (immutable): insert rows whose key is absent. `ON CONFLICT DO NOTHING` also skips a key repeated
 *   inside the stage (the second copy conflicts with the first), so no sort of the whole stage is needed.
 * - persons, sessions (mutable): keep the latest version per key in the stage (DISTINCT ON), then upsert; a stored
 *   row is replaced only when a version column of the incoming row is greater. Works on Postgres 12+ (no MERGE).
 * Landed rows = distinct stage keys present in the final table afterwards, counted in the same transaction.
 */
import type { ModelSchema } from '../../src/sdk';
import { quoteIdent } from '../../src/sdk/pgwire';

export function mergeSql(finalTable: string, stageTable: string, model: ModelSchema): string {
  const cols = model.columns.map((c) => quoteIdent(c.name));
  const list = cols.join(', ');
  const key = model.key.map(quoteIdent).join(', ');
  if (!model.mutable) {
    return `INSERT INTO ${finalTable} (${list}) SELECT ${list} FROM ${stageTable} ON CONFLICT (${key}) DO NOTHING`;
  }
  const latestFirst = model.versionColumns.map((v) => `${quoteIdent(v)} DESC`).join(', ');
  const keySet = new Set(model.key);
  const updates = model.columns.filter((c) => !keySet.has(c.name)).map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`);
  const newer = model.versionColumns.map((v) => `EXCLUDED.${quoteIdent(v)} > t.${quoteIdent(v)}`).join(' OR ');
  return (
    `INSERT INTO ${finalTable} AS t (${list})\n` +
    `SELECT DISTINCT ON (${key}) ${list} FROM ${stageTable} ORDER BY ${key}, ${latestFirst}\n` +
    `ON CONFLICT (${key}) DO UPDATE SET ${updates.join(', ')}\n` +
    `WHERE ${newer}`
  );
}

export function landedSql(finalTable: string, stageTable: string, model: ModelSchema): string {
  const key = model.key.map(quoteIdent);
  const join = key.map((k) => `f.${k} = s.${k}`).join(' AND ');
  return (
    `SELECT count(*)::text AS n FROM (SELECT DISTINCT ${key.join(', ')} FROM ${stageTable}) s ` +
    `WHERE EXISTS (SELECT 1 FROM ${finalTable} f WHERE ${join})`
  );
}
