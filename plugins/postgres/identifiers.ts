/**
 * Postgres's identifier rule (quoting itself is `quoteIdent` in outport/sdk/pgwire): names Postgres would
 * silently truncate are refused.
 */
import { qualified, type IdentifierLimit } from '../../src/sdk/pgwire';

/** Postgres keeps NAMEDATALEN - 1 = 63 bytes of an identifier and silently drops the rest. */
export const MAX_IDENTIFIER_BYTES = 63;

export const POSTGRES_IDENTIFIERS: IdentifierLimit = {
  maxBytes: MAX_IDENTIFIER_BYTES,
  system: 'Postgres',
  consequence: 'longer names would be silently truncated',
};

/** For messages and logs: the name as a user would type it in psql. */
export function displayName(schema: string, table: string): string {
  return qualified(schema, table);
}
