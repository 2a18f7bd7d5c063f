/**
 * Turns the small subset of GoogleSQL that Outport emits into PostgreSQL. Not a parser: it rewrites identifiers
 * (backtick paths to the fake's Postgres tables, backtick columns to double-quoted ones), keeps string literals
 * intact, and refuses statement kinds and GoogleSQL-only constructs it does not understand, so a plugin change
 * that steps outside the subset fails loudly instead of being run with other semantics.
 */
import { BigQueryError } from './errors';

const SUPPORTED_STATEMENTS = /^\s*(MERGE\s+INTO|SELECT|INSERT\s+INTO|DELETE\s+FROM)\b/i;
/** Constructs whose GoogleSQL meaning Postgres does not share (or lacks): refused rather than mistranslated. */
const UNSUPPORTED = /\b(QUALIFY|EXCEPT\s*\(|REPLACE\s*\(|SAFE_CAST|SAFE\.|STRUCT|UNNEST|ARRAY_AGG|PARSE_JSON|TO_JSON_STRING|JSON_VALUE|FARM_FINGERPRINT|NOT\s+MATCHED\s+BY\s+SOURCE|CREATE|DROP|ALTER|TRUNCATE)\b/i;

export type TableResolver = (datasetId: string, tableId: string, projectId: string | undefined) => string;

export function translateGoogleSql(sql: string, resolveTable: TableResolver): string {
  if (!SUPPORTED_STATEMENTS.test(sql)) {
    throw new BigQueryError(400, 'invalidQuery', `The fake BigQuery runs only MERGE, SELECT, INSERT and DELETE statements, got: ${sql.slice(0, 60)}`);
  }
  let out = '';
  let i = 0;
  let code = '';
  const flushCode = () => {
    const bad = UNSUPPORTED.exec(code);
    if (bad) throw new BigQueryError(400, 'invalidQuery', `The fake BigQuery does not support ${bad[1]} (only the statements Outport emits)`);
    if (code.includes('"')) throw new BigQueryError(400, 'invalidQuery', 'Syntax error: double-quoted strings are not supported by the fake');
    out += code;
    code = '';
  };
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'") {
      const end = sql.indexOf("'", i + 1);
      if (end < 0) throw new BigQueryError(400, 'invalidQuery', 'Syntax error: Unclosed string literal');
      const literal = sql.slice(i, end + 1);
      if (literal.includes('\\')) throw new BigQueryError(400, 'invalidQuery', 'The fake BigQuery does not support escapes in string literals');
      flushCode();
      out += literal;
      i = end + 1;
    } else if (ch === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) throw new BigQueryError(400, 'invalidQuery', 'Syntax error: Unclosed identifier literal');
      const parts = sql.slice(i + 1, end).split('.');
      flushCode();
      if (parts.length === 3) out += resolveTable(parts[1], parts[2], parts[0]);
      else if (parts.length === 2) out += resolveTable(parts[0], parts[1], undefined);
      else out += `"${parts[0]}"`;
      i = end + 1;
    } else {
      code += ch;
      i++;
    }
  }
  flushCode();
  return out;
}
