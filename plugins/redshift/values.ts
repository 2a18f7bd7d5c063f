/**
 * The documented rule for values Redshift cannot store as given (README.md, "Values Redshift cannot store").
 *
 * Applied in this order to every value, in every mode:
 * 1. U+0000 (NUL) and unpaired UTF-16 surrogates become U+FFFD, in text and JSON columns (VARCHAR rejects NUL;
 *    UTF-8 cannot encode a lone surrogate).
 * 2. A json value that is not valid JSON becomes a JSON string holding its text (SUPER's JSON_PARSE would fail,
 *    and readers of a VARCHAR column expect JSON).
 * 3. Text longer than 65,535 UTF-8 bytes is cut at a character boundary to at most 65,535 bytes. A json value
 *    longer than 65,535 bytes is replaced by `{"$outport_truncated": true, "original_bytes": N}` (N = the UTF-8
 *    length of the value as received): cut JSON would not be JSON.
 * Every changed value is counted per column and rule and returned as the run's `replacements` (the host logs them
 * in the run's log and stores them on the run).
 */
import { ReplacementCounter, type Column, type Value } from '../../src/sdk';

/** Redshift's VARCHAR maximum, in bytes (not characters). */
export const MAX_VARCHAR_BYTES = 65_535;

const REPLACEMENT = '\uFFFD';
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

type MaybeWellFormed = string & { isWellFormed?(): boolean };
function wellFormed(s: string): boolean {
  const f = (s as MaybeWellFormed).isWellFormed;
  return f ? f.call(s) : !/[\uD800-\uDFFF]/u.test(s);
}

/** Rule ids this plugin reports (see src/sdk/replacements.ts); each counts changed VALUES per column. */
export const REDSHIFT_RULES = {
  nul: 'nul',
  loneSurrogate: 'lone_surrogate',
  invalidJson: 'invalid_json_as_string',
  truncatedText: 'text_truncated',
  jsonMarker: 'json_truncated_marker',
} as const;

const DESCRIPTIONS: Record<string, string> = {
  [REDSHIFT_RULES.nul]: 'U+0000 (NUL) replaced with U+FFFD: Redshift VARCHAR rejects it',
  [REDSHIFT_RULES.truncatedText]: `text over Redshift's ${MAX_VARCHAR_BYTES}-byte VARCHAR limit cut at a UTF-8 character boundary to ${MAX_VARCHAR_BYTES} bytes`,
  [REDSHIFT_RULES.jsonMarker]: `json values over ${MAX_VARCHAR_BYTES} bytes replaced by {"$outport_truncated": true, "original_bytes": N}`,
};

/** The marker that stands in for a JSON value too long for Redshift. */
export function truncationMarker(originalBytes: number): string {
  return JSON.stringify({ $outport_truncated: true, original_bytes: originalBytes });
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `maxBytes`, never splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so the cut falls before a character's first byte.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

export class ValueRules {
  /** Values changed, per column and rule: what the run reports as `WriteResult.replacements`. */
  readonly replacements = new ReplacementCounter();

  get total(): number {
    return this.replacements.total;
  }

  /** Values changed by one rule (a `REDSHIFT_RULES` id), all columns together. */
  count(rule: string): number {
    return this.replacements.countOf(rule);
  }

  /** The value to store for `column`, as text (null stays null). Non-text types are passed through as strings. */
  apply(column: Column, value: Value | undefined): string | null {
    if (value === null || value === undefined) return null;
    switch (column.type) {
      case 'string':
        return this.text(String(value), column.name);
      case 'json':
        return this.json(String(value), column.name);
      case 'bool':
        return value === true || value === 'true' || value === 't' ? 'true' : 'false';
      case 'timestamp':
        return redshiftTimestamp(String(value));
      default:
        return String(value);
    }
  }

  text(value: string, column: string): string {
    let out = this.replaceInvalid(value, column);
    if (out.length * 3 > MAX_VARCHAR_BYTES && Buffer.byteLength(out, 'utf8') > MAX_VARCHAR_BYTES) {
      out = truncateUtf8(out, MAX_VARCHAR_BYTES);
      this.note(column, REDSHIFT_RULES.truncatedText);
    }
    return out;
  }

  json(value: string, column: string): string {
    let out = this.replaceInvalid(value, column);
    try {
      JSON.parse(out);
    } catch {
      this.note(column, REDSHIFT_RULES.invalidJson);
      out = JSON.stringify(out);
    }
    if (out.length * 3 > MAX_VARCHAR_BYTES && Buffer.byteLength(out, 'utf8') > MAX_VARCHAR_BYTES) {
      out = truncationMarker(Buffer.byteLength(value, 'utf8'));
      this.note(column, REDSHIFT_RULES.jsonMarker);
    }
    return out;
  }

  private replaceInvalid(value: string, column: string): string {
    let out = value;
    if (out.includes('\u0000')) {
      out = out.replaceAll('\u0000', REPLACEMENT);
      this.note(column, REDSHIFT_RULES.nul);
    }
    if (!wellFormed(out)) {
      out = out.replace(LONE_SURROGATES, REPLACEMENT);
      this.note(column, REDSHIFT_RULES.loneSurrogate);
    }
    return out;
  }

  private note(column: string, rule: string): void {
    this.replacements.add(column, rule, 1, DESCRIPTIONS[rule]);
  }
}

/**
 * `2024-01-31T23:59:59.123456Z` -> `2024-01-31 23:59:59.123456+00`: the form Redshift prints for TIMESTAMPTZ,
 * read back by casts, by COPY's TIMEFORMAT 'auto' and by Postgres alike.
 */
export function redshiftTimestamp(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}+00` : iso;
}
