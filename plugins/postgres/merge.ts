/**
 * The one transaction that moves a run from its stage into the final table.
 * - events (immutable): insert rows whose key is absent. `ON CONFLICT DO NOTHING` also skips a key repeated
 *   inside the stage (the second copy conflicts with the first), so no sort of the whole stage is needed.
 * - persons, sessions (mutable): keep the latest version per key in the stage (DISTINCT ON), then upsert; a stored
 *   row is replaced only when the incoming versions are greater (`newerVersionSql`, the SDK's rule). Works on
 *   Postgres 12+ (no MERGE).
 * Landed rows = distinct stage keys present in the final table afterwards, counted in the same transaction; for
 * mutable models only where the stored versions are not older than the stage's latest (the same or newer content).
 */
import { newerVersionSql, type ModelSchema } from '../../src/sdk';
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
  const newer = newerVersionSql(model, (c) => `EXCLUDED.${quoteIdent(c)}`, (c) => `t.${quoteIdent(c)}`);
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
  if (!model.mutable) {
    return (
      `SELECT count(*)::text AS n FROM (SELECT DISTINCT ${key.join(', ')} FROM ${stageTable}) s ` +
      `WHERE EXISTS (SELECT 1 FROM ${finalTable} f WHERE ${join})`
    );
  }
  const versions = model.versionColumns.map(quoteIdent);
  const latest =
    `SELECT DISTINCT ON (${key.join(', ')}) ${[...key, ...versions].join(', ')} FROM ${stageTable} ` +
    `ORDER BY ${[...key, ...versions.map((v) => `${v} DESC`)].join(', ')}`;
  const stageNewer = newerVersionSql(model, (c) => `s.${quoteIdent(c)}`, (c) => `f.${quoteIdent(c)}`);
  return `SELECT count(*)::text AS n FROM (${latest}) s WHERE EXISTS (SELECT 1 FROM ${finalTable} f WHERE ${join} AND NOT ${stageNewer})`;
}
