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
 * Every change is counted, per kind and per column, and reported once per run.
 */
import type { Column, Value } from '../../src/sdk';

/** Redshift's VARCHAR maximum, in bytes (not characters). */
export const MAX_VARCHAR_BYTES = 65_535;

const REPLACEMENT = '\uFFFD';
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

type MaybeWellFormed = string & { isWellFormed?(): boolean };
function wellFormed(s: string): boolean {
  const f = (s as MaybeWellFormed).isWellFormed;
  return f ? f.call(s) : !/[\uD800-\uDFFF]/u.test(s);
}

export interface ValueCounts {
  /** NUL characters replaced with U+FFFD (text and JSON columns). */
  nul: number;
  /** Unpaired surrogates replaced with U+FFFD (text and JSON columns). */
  surrogates: number;
  /** json values that were not valid JSON, stored as JSON strings. */
  invalidJson: number;
  /** Text values cut to 65,535 bytes. */
  truncatedText: number;
  /** json values over 65,535 bytes replaced by the truncation marker. */
  jsonMarkers: number;
}

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
  readonly counts: ValueCounts = { nul: 0, surrogates: 0, invalidJson: 0, truncatedText: 0, jsonMarkers: 0 };
  /** Columns in which at least one value was changed, with how many values. */
  readonly columns = new Map<string, number>();

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
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
    const before = this.total;
    let out = this.replaceInvalid(value);
    if (out.length * 3 > MAX_VARCHAR_BYTES && Buffer.byteLength(out, 'utf8') > MAX_VARCHAR_BYTES) {
      out = truncateUtf8(out, MAX_VARCHAR_BYTES);
      this.counts.truncatedText++;
    }
    if (this.total !== before) this.note(column);
    return out;
  }

  json(value: string, column: string): string {
    const before = this.total;
    let out = this.replaceInvalid(value);
    try {
      JSON.parse(out);
    } catch {
      this.counts.invalidJson++;
      out = JSON.stringify(out);
    }
    if (out.length * 3 > MAX_VARCHAR_BYTES && Buffer.byteLength(out, 'utf8') > MAX_VARCHAR_BYTES) {
      out = truncationMarker(Buffer.byteLength(value, 'utf8'));
      this.counts.jsonMarkers++;
    }
    if (this.total !== before) this.note(column);
    return out;
  }

  private replaceInvalid(value: string): string {
    let out = value;
    if (out.includes('\u0000')) {
      this.counts.nul += out.split('\u0000').length - 1;
      out = out.replaceAll('\u0000', REPLACEMENT);
    }
    if (!wellFormed(out)) {
      this.counts.surrogates += out.match(LONE_SURROGATES)?.length ?? 0;
      out = out.replace(LONE_SURROGATES, REPLACEMENT);
    }
    return out;
  }

  private note(column: string): void {
    this.columns.set(column, (this.columns.get(column) ?? 0) + 1);
  }

  /** One line for the run's warning, or undefined when nothing was changed. */
  summary(): string | undefined {
    if (this.total === 0) return undefined;
    const c = this.counts;
    return [
      c.nul && `${c.nul} NUL character(s) replaced with U+FFFD`,
      c.surrogates && `${c.surrogates} unpaired surrogate(s) replaced with U+FFFD`,
      c.invalidJson && `${c.invalidJson} invalid JSON value(s) stored as JSON strings`,
      c.truncatedText && `${c.truncatedText} text value(s) cut to ${MAX_VARCHAR_BYTES} bytes`,
      c.jsonMarkers && `${c.jsonMarkers} JSON value(s) over ${MAX_VARCHAR_BYTES} bytes replaced by {"$outport_truncated": true, ...}`,
    ]
      .filter(Boolean)
      .join('; ');
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
