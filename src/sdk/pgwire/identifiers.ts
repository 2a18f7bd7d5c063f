/**
 * SQL identifiers for Postgres-wire databases. Users may name schemas and tables anything the server accepts, so
 * names are never interpolated raw: every identifier is double-quoted with `"` doubled, and names the server
 * would cut are refused.
 */
import { z } from 'zod';

/** How long an identifier may be, and the words a "too long" message uses. */
export interface IdentifierLimit {
  /** Bytes of UTF-8 the server keeps (Postgres: NAMEDATALEN - 1 = 63; Redshift: 127). */
  maxBytes: number;
  /** The database's name in messages, e.g. 'Postgres'. */
  system: string;
  /** Why the limit matters, appended in parentheses when given. */
  consequence?: string;
}

/** With the `u` flag a valid pair is one code point, so this matches only unpaired surrogates. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why `name` cannot be used as an identifier, or undefined when it can. */
export function identifierProblem(name: string, limit: IdentifierLimit): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(name)) return 'must be valid Unicode (it contains a lone surrogate)';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > limit.maxBytes) {
    const why = limit.consequence ? ` (${limit.consequence})` : '';
    return `is ${bytes} bytes in UTF-8; ${limit.system} identifiers are limited to ${limit.maxBytes} bytes${why}`;
  }
  return undefined;
}

/** A zod string that must be a usable identifier; the issue message starts with `what` (the setting's name). */
export function identifierField(what: string, limit: IdentifierLimit) {
  return z.string().superRefine((name, ctx) => {
    const problem = identifierProblem(name, limit);
    if (problem) ctx.addIssue({ code: 'custom', message: `${what} ${problem}` });
  });
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** `"schema"."table"`, each part quoted. */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}
