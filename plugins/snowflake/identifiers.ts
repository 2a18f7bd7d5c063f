/**
 * Snowflake identifiers as users write them: a plain name (`analytics`) means what an unquoted identifier means in
 * Snowflake (upper case, `ANALYTICS`); a name wrapped in double quotes, or one that needs quoting anyway, is exact.
 * Everything is emitted quoted, so reserved words and odd characters are always safe.
 */
export function resolveName(name: string): string {
  const quoted = /^"((?:[^"]|"")+)"$/.exec(name);
  if (quoted) return quoted[1].replace(/""/g, '"');
  return /^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) ? name.toUpperCase() : name;
}

/** A quoted identifier for the exact name. */
export function quoteIdent(exact: string): string {
  return `"${exact.replace(/"/g, '""')}"`;
}

export function qualified(database: string, schema: string, table: string): string {
  return [database, schema, table].map((n) => quoteIdent(resolveName(n))).join('.');
}
