/**
 * The documented lossy rule for values Postgres cannot store (see README.md, "Values Postgres cannot store").
 *
 * - U+0000 (NUL) is replaced with U+FFFD in text columns and in JSON (raw, or as the `\u0000` escape), because
 *   TEXT and JSONB reject it.
 * - Unpaired UTF-16 surrogates (raw, or as `\uD800`-style escapes in JSON) are replaced with U+FFFD, because
 *   UTF-8 cannot encode them and JSONB rejects the escapes.
 * - A json value that is not valid JSON, nests deeper than MAX_JSON_DEPTH, or holds a number outside Postgres'
 *   numeric range is stored as a JSON string holding the original text (after the replacements above).
 * Every changed value is counted per column and rule and returned as the run's `replacements`: the host logs
 * them as WARN lines in the run's log and stores them on the run.
 */
import { ReplacementCounter } from '../../src/sdk';

/** Well inside what JSONB parses with the default 2 MB max_stack_depth (about 10,000 levels on Postgres 18). */
export const MAX_JSON_DEPTH = 1000;

/** Postgres numeric: at most 131072 digits before the decimal point and 16383 after (a margin is kept). */
const MAX_INTEGER_DIGITS = 131_000;
const MAX_FRACTION_DIGITS = 16_000;

const REPLACEMENT = '\uFFFD';
type MaybeWellFormed = string & { isWellFormed?(): boolean };

/** Native on Node 20+ (V8 11); the regex fallback is only for older runtimes. */
function wellFormed(s: string): boolean {
  const f = (s as MaybeWellFormed).isWellFormed;
  return f ? f.call(s) : !/[\uD800-\uDFFF]/u.test(s);
}

/** True when the string holds neither NUL nor an unpaired surrogate: the common case, decided natively. */
function clean(s: string): boolean {
  return !s.includes('\u0000') && wellFormed(s);
}
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/** Rule ids this sanitizer reports (see src/sdk/replacements.ts); each counts changed VALUES per column. */
export const POSTGRES_RULES = {
  nul: 'nul',
  loneSurrogate: 'lone_surrogate',
  invalidJson: 'invalid_json_as_string',
  tooDeep: 'json_too_deep_as_string',
  numberOutOfRange: 'json_number_out_of_range_as_string',
} as const;

const DESCRIPTIONS: Record<string, string> = {
  [POSTGRES_RULES.nul]: 'U+0000 (NUL, raw or as the \\u0000 escape) replaced with U+FFFD: Postgres TEXT and JSONB reject it',
  [POSTGRES_RULES.loneSurrogate]: 'unpaired UTF-16 surrogates (raw, or escaped in JSON) replaced with U+FFFD: UTF-8 and JSONB cannot hold them',
  [POSTGRES_RULES.tooDeep]: `json values nested deeper than ${MAX_JSON_DEPTH} levels stored as a JSON string holding the text (JSONB's stack limit)`,
  [POSTGRES_RULES.numberOutOfRange]: 'json values with a number outside Postgres numeric range stored as a JSON string holding the text',
};

export class Sanitizer {
  /** Values changed, per column and rule: what the run reports as `WriteResult.replacements`. */
  readonly replacements = new ReplacementCounter();

  get total(): number {
    return this.replacements.total;
  }

  private note(column: string, rule: string): void {
    this.replacements.add(column, rule, 1, DESCRIPTIONS[rule]);
  }

  text(value: string, column: string): string {
    if (clean(value)) return value;
    let out = value;
    if (out.includes('\u0000')) {
      out = out.replaceAll('\u0000', REPLACEMENT);
      this.note(column, POSTGRES_RULES.nul);
    }
    if (!wellFormed(out)) {
      out = out.replace(LONE_SURROGATES, REPLACEMENT);
      this.note(column, POSTGRES_RULES.loneSurrogate);
    }
    return out;
  }

  json(value: string, column: string): string {
    let text = value;
    let nul = false;
    let lone = false;
    if (text.includes('\u0000')) {
      text = text.replaceAll('\u0000', REPLACEMENT);
      nul = true;
    }
    if (!wellFormed(text)) {
      text = text.replace(LONE_SURROGATES, REPLACEMENT);
      lone = true;
    }
    let fallback: string | undefined;
    try {
      JSON.parse(text);
    } catch {
      fallback = POSTGRES_RULES.invalidJson;
    }
    if (!fallback && needsScan(text)) {
      const scan = scanJson(text);
      if (scan.maxDepth > MAX_JSON_DEPTH) fallback = POSTGRES_RULES.tooDeep;
      else if (scan.numberOutOfRange) fallback = POSTGRES_RULES.numberOutOfRange;
      else if (scan.fixes.length > 0) {
        nul ||= scan.nulEscapes > 0;
        lone ||= scan.fixes.length > scan.nulEscapes;
        text = applyFixes(text, scan.fixes);
      }
    }
    if (nul) this.note(column, POSTGRES_RULES.nul);
    if (lone) this.note(column, POSTGRES_RULES.loneSurrogate);
    if (fallback) {
      this.note(column, fallback);
      return JSON.stringify(text);
    }
    return text;
  }
}

/**
 * Cheap native checks that prove scanJson would find nothing: no `\u` escape, no digit followed by an exponent
 * marker, no token long enough to overflow numeric, and too few brackets to nest past MAX_JSON_DEPTH.
 * False alarms (an `\u` or `1e` inside a string) only cost the full scan.
 */
function needsScan(text: string): boolean {
  if (text.includes('\\u') || /\d[eE]/.test(text) || text.length > MAX_FRACTION_DIGITS) return true;
  let brackets = 0;
  for (const open of ['[', '{']) {
    for (let i = text.indexOf(open); i !== -1; i = text.indexOf(open, i + 1)) {
      if (++brackets > MAX_JSON_DEPTH) return true;
    }
  }
  return false;
}

interface JsonScan {
  maxDepth: number;
  numberOutOfRange: boolean;
  /** Start offsets of 6-character `\uXXXX` escapes to replace with `\ufffd`. */
  fixes: number[];
  nulEscapes: number;
}

const HEX = /^[0-9a-fA-F]{4}$/;

function escapeAt(text: string, i: number): number | undefined {
  if (text.charCodeAt(i) !== 92 || text.charCodeAt(i + 1) !== 117) return undefined;
  const hex = text.slice(i + 2, i + 6);
  return HEX.test(hex) ? parseInt(hex, 16) : undefined;
}

/** One pass over VALID JSON text (checked by JSON.parse first): nesting depth, out-of-range numbers, bad escapes. */
export function scanJson(text: string): JsonScan {
  const scan: JsonScan = { maxDepth: 0, numberOutOfRange: false, fixes: [], nulEscapes: 0 };
  let depth = 0;
  let inString = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 34) inString = false;
      else if (c === 92) {
        const code = escapeAt(text, i);
        if (code === undefined) {
          i++; // a two-character escape such as \" or \\
          continue;
        }
        if (code === 0) {
          scan.fixes.push(i);
          scan.nulEscapes++;
        } else if (code >= 0xd800 && code <= 0xdbff) {
          const low = escapeAt(text, i + 6);
          if (low !== undefined && low >= 0xdc00 && low <= 0xdfff) {
            i += 6; // a valid pair: skip the low half too
          } else {
            scan.fixes.push(i);
          }
        } else if (code >= 0xdc00 && code <= 0xdfff) {
          scan.fixes.push(i);
        }
        i += 5;
      }
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > scan.maxDepth) scan.maxDepth = depth;
    } else if (c === 125 || c === 93) depth--;
    else if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1;
      let exponent = false;
      for (let d = text.charCodeAt(j); j < n && isNumberChar(d); d = text.charCodeAt(++j)) {
        if (d === 101 || d === 69) exponent = true;
      }
      // Without an exponent only a token longer than MAX_FRACTION_DIGITS can be out of range.
      if ((exponent || j - i > MAX_FRACTION_DIGITS) && numberOutOfRange(text.slice(i, j))) scan.numberOutOfRange = true;
      i = j - 1;
    }
  }
  return scan;
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

function numberOutOfRange(token: string): boolean {
  const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(token);
  if (!m) return true;
  const exponent = m[3] ? Number(m[3]) : 0;
  const integerDigits = m[1].replace(/^0+/, '').length;
  const fractionDigits = m[2]?.length ?? 0;
  return integerDigits + exponent > MAX_INTEGER_DIGITS || fractionDigits - exponent > MAX_FRACTION_DIGITS;
}

function applyFixes(text: string, fixes: number[]): string {
  let out = '';
  let from = 0;
  for (const at of fixes) {
    out += text.slice(from, at) + '\\ufffd';
    from = at + 6;
  }
  return out + text.slice(from);
}
