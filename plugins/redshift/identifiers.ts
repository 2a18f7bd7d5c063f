/**
 * SQL identifiers and literals. Names are never interpolated raw: identifiers are double-quoted with `"` doubled.
 * Redshift keeps 127 bytes of an identifier; longer names are refused rather than silently cut.
 */

/** Redshift's identifier limit (Postgres, the test stand-in, keeps 63: the fixture uses short names). */
export const MAX_IDENTIFIER_BYTES = 127;

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why `name` cannot be used as an identifier, or undefined when it can. */
export function identifierProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(name)) return 'must be valid Unicode (it contains a lone surrogate)';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    return `is ${bytes} bytes in UTF-8; Redshift identifiers are limited to ${MAX_IDENTIFIER_BYTES} bytes`;
  }
  return undefined;
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/**
 * A string literal for the few values that cannot be bound as parameters (COPY's source, credentials and role).
 * Config validation only lets through text without quotes, backslashes or control characters, so the result is
 * the same whether the server treats backslash as an escape (Redshift) or not (Postgres); this re-checks that.
 */
export function safeLiteral(value: string): string {
  if (/['\\\u0000-\u001f]/.test(value)) {
    throw new Error(`refusing to put a value with quotes, backslashes or control characters into a SQL literal`);
  }
  return `'${value}'`;
}
