/**
 * Redshift's identifier rule and SQL literals (quoting itself is `quoteIdent` in outport/sdk/pgwire). Redshift
 * keeps 127 bytes of an identifier; longer names are refused rather than silently cut.
 */
import type { IdentifierLimit } from '../../src/sdk/pgwire';

/** Redshift's identifier limit (Postgres, the test stand-in, keeps 63: the fixture uses short names). */
export const MAX_IDENTIFIER_BYTES = 127;

export const REDSHIFT_IDENTIFIERS: IdentifierLimit = { maxBytes: MAX_IDENTIFIER_BYTES, system: 'Redshift' };

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
