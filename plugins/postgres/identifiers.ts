/**
 * SQL identifiers. Users may name schemas and tables anything Postgres accepts, so names are never interpolated
 * raw: every identifier is double-quoted with `"` doubled, and names Postgres would silently truncate are refused.
 */

/** Postgres keeps NAMEDATALEN - 1 = 63 bytes of an identifier and silently drops the rest. */
export const MAX_IDENTIFIER_BYTES = 63;

/** With the `u` flag a valid pair is one code point, so this matches only unpaired surrogates. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why `name` cannot be used as an identifier, or undefined when it can. */
export function identifierProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(name)) return 'must be valid Unicode (it contains a lone surrogate)';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    return `is ${bytes} bytes in UTF-8; Postgres identifiers are limited to ${MAX_IDENTIFIER_BYTES} bytes (longer names would be silently truncated)`;
  }
  return undefined;
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** For messages and logs: the name as a user would type it in psql. */
export function displayName(schema: string, table: string): string {
  return qualified(schema, table);
}
