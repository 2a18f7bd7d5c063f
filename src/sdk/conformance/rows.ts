/**
 * Rows the conformance kit writes: deterministic, shaped exactly like src/sdk/models.ts, and salted with values
 * that break naive destinations (NUL, astral and combining characters, bidi controls, 100 KB strings, 60-deep
 * JSON, quotes, backslashes, SQL-looking text). Key columns never hold NUL: a destination that documents a lossy
 * rule for NUL would otherwise collapse two keys into one.
 */
import { createHash } from 'node:crypto';
import type { Row } from '../models';

/** The team every generated row belongs to (also the RunContext's teamId). */
export const TEAM_ID = 4242;

/** Strings that have broken real exporters. Safe to use as keys (no NUL). */
export const HOSTILE_KEY_STRINGS: readonly string[] = [
  "'); DROP TABLE x; --",
  'quotes \' " ` and doubled \'\' ""',
  'back\\slash \\n \\\\ \\u0000 (escaped, not real)',
  'new\nline\r\nand\ttab',
  'emoji 🎉 family 👩‍👩‍👧‍👦 flag 🇺🇦',
  'astral 𝄞 𠜎 𝔘𝔫𝔦',
  'rtl \u202Eevil\u202C mark\u200F arabic مرحبا hebrew שלום',
  'zero\u200Bwidth\u200C\u200D joiners \uFEFF bom',
  'combining e\u0301 vs \u00e9, Z\u0334\u0321\u0322algo',
  'line\u2028sep\u2029para',
  'control \u0001\u001f\u007f\u0085',
  'comma,separated,"csv",field',
  '%s %d {0} ${x} $1 ?',
  '<script>alert(1)</script>&amp;',
  '  leading and trailing spaces  ',
  '',
];

/** Everything in HOSTILE_KEY_STRINGS plus NUL, which some destinations cannot store (they document a rule). */
export const HOSTILE_STRINGS: readonly string[] = [
  ...HOSTILE_KEY_STRINGS,
  'NUL \u0000 in the middle',
  '\u0000',
];

/** A 100 KB string mixing 1-, 2-, 3- and 4-byte UTF-8 characters, so byte and character lengths differ. */
export const HUGE_STRING = 'abc é € 𝄞 '.repeat(9100);

/** 60 levels of alternating objects and arrays around hostile leaves. */
export function deepJson(depth = 60): unknown {
  let v: unknown = { bottom: 'NUL \u0000 and 🎉', n: -17.25 };
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { [`level-${i}`]: v, 'q"k': i } : [v, i, null];
  return v;
}

/** A JSON document (as TEXT, the way json columns carry it) built around hostile string `s`. */
export function hostileJson(s: string, i: number): string {
  return JSON.stringify({
    $current_url: `https://example.com/${encodeURIComponent(s)}?q=${i}`,
    text: s,
    [s || 'empty-key']: i,
    'key with "quotes" and \\': 'v',
    numbers: [0, -1, 0.1, 1.5e-7, 2 ** 53 - 1, -(2 ** 31)],
    flags: [true, false, null],
    nested: { a: { b: { c: [s, { d: s }] } } },
  });
}

/** A UUID-shaped, deterministic identifier. */
export function uuidFor(kind: string, i: number): string {
  const h = createHash('sha256').update(`${kind}:${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** ISO-8601 UTC with exactly six fractional digits, from epoch microseconds. */
export function isoMicros(epochMicros: bigint): string {
  const ms = Number(epochMicros / 1000n);
  const micros = String(epochMicros % 1_000_000n).padStart(6, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + micros + 'Z';
}

export interface Interval {
  start: Date;
  end: Date;
}

/** A timestamp inside `interval`, spread by `i` with sub-millisecond digits that a millisecond clock would lose. */
function tsIn(interval: Interval, i: number, offsetSeconds = 0): string {
  const start = BigInt(interval.start.getTime()) * 1000n;
  const span = BigInt(interval.end.getTime() - interval.start.getTime()) * 1000n;
  const micros = (BigInt(i) * 1_000_003n + BigInt(offsetSeconds) * 1_000_000n) % span;
  return isoMicros(start + micros);
}

/**
 * Event rows `from .. from+count-1`. The first rows carry each hostile string in every string column; a few
 * special rows carry 100 KB values, 60-deep JSON, all-null optional columns and the extremes of safe integers.
 */
export function eventRows(interval: Interval, from: number, count: number): Row[] {
  const rows: Row[] = [];
  for (let i = from; i < from + count; i++) {
    // Every third row is hostile; floor(i / 3) walks through all hostile strings in turn.
    const s = HOSTILE_STRINGS[Math.floor(i / 3) % HOSTILE_STRINGS.length];
    const hostile = i % 3 === 0;
    const row: Row = {
      team_id: TEAM_ID,
      uuid: uuidFor('event', i),
      event: hostile ? s : ['$pageview', '$autocapture', 'signed up'][i % 3],
      distinct_id: hostile ? HOSTILE_KEY_STRINGS[Math.floor(i / 3) % HOSTILE_KEY_STRINGS.length] : `user-${i % 50}`,
      person_id: i % 7 === 0 ? null : uuidFor('person', i % 50),
      timestamp: tsIn(interval, i),
      created_at: tsIn(interval, i, 1),
      _inserted_at: tsIn(interval, i, 2),
      properties: hostile ? hostileJson(s, i) : JSON.stringify({ $browser: 'Firefox', i }),
      person_properties: i % 4 === 0 ? null : JSON.stringify({ email: `u${i}@example.com`, plan: s }),
      set: i % 5 === 0 ? JSON.stringify({ name: s }) : null,
      set_once: i % 11 === 0 ? JSON.stringify([1, 'two', { three: 3 }]) : null,
      elements_chain: i % 2 === 0 ? null : `a.link:href="${s}"nth-child="1"`,
    };
    switch (i % 40) {
      case 1: row.elements_chain = HUGE_STRING; break;
      case 2: row.properties = JSON.stringify({ huge: HUGE_STRING }); break;
      case 4: row.properties = JSON.stringify(deepJson()); break;
      case 5:
        for (const c of ['person_id', 'properties', 'person_properties', 'set', 'set_once', 'elements_chain']) row[c] = null;
        break;
      case 7: row.elements_chain = ''; row.properties = '{}'; break;
    }
    rows.push(row);
  }
  return rows;
}

export interface PersonSpec {
  key: number;
  personVersion: number;
  distinctIdVersion?: number;
  deleted?: boolean;
  /** Distinguishes the content of two versions of the same person. */
  tag: string;
}

/** One persons row. Odd keys get hostile distinct_ids; properties carry the tag so a replaced row is visible. */
export function personRow(interval: Interval, p: PersonSpec): Row {
  const hostile = HOSTILE_KEY_STRINGS[p.key % HOSTILE_KEY_STRINGS.length];
  return {
    team_id: TEAM_ID,
    distinct_id: p.key % 2 === 1 ? `${hostile} #${p.key}` : `person-${p.key}@example.com`,
    person_id: uuidFor('person', p.key),
    properties: p.key % 9 === 0 ? null : JSON.stringify({ tag: p.tag, text: HOSTILE_STRINGS[p.key % HOSTILE_STRINGS.length], deep: p.key === 4 ? deepJson() : null }),
    person_version: p.personVersion,
    person_distinct_id_version: p.distinctIdVersion ?? 0,
    is_deleted: p.deleted ?? false,
    created_at: p.key % 5 === 0 ? null : tsIn(interval, p.key),
    _inserted_at: tsIn(interval, p.key, 3),
  };
}

export interface SessionSpec {
  key: number;
  version: number;
  tag: string;
}

/** One sessions row; `tag` lands in exit_url so a replaced row is visible. */
export function sessionRow(interval: Interval, s: SessionSpec): Row {
  const hostile = HOSTILE_STRINGS[s.key % HOSTILE_STRINGS.length];
  return {
    team_id: TEAM_ID,
    session_id: uuidFor('session', s.key),
    distinct_id: `user-${s.key % 13}`,
    start_timestamp: tsIn(interval, s.key),
    end_timestamp: tsIn(interval, s.key, 1800),
    duration_seconds: 1800 + s.key / 8,
    entry_url: s.key % 6 === 0 ? null : `https://example.com/${hostile}`,
    exit_url: `https://example.com/exit?tag=${s.tag}`,
    pageview_count: s.key * 3,
    autocapture_count: s.key === 3 ? 2 ** 40 : s.key,
    is_bounce: s.key % 2 === 0,
    utm_source: s.key % 4 === 0 ? null : hostile,
    utm_medium: s.key === 1 ? HUGE_STRING : 'email',
    utm_campaign: s.key % 3 === 0 ? '' : "spring '24 \"sale\"",
    utm_term: null,
    utm_content: s.key % 5 === 0 ? 'emoji 🎉' : null,
    session_version: s.version,
    _inserted_at: tsIn(interval, s.key, 5),
  };
}

/**
 * Strings that some destinations cannot store as given and change by a documented rule (src/sdk/replacements.ts):
 * unpaired UTF-16 surrogates (UTF-8 cannot encode them), and one next to a NUL (two rules on one value). The source
 * never produces them (it reads valid UTF-8), but a destination must not depend on that. Never used as keys.
 */
export const LOSSY_STRINGS: readonly string[] = [
  'lone high \uD800 surrogate',
  'lone low \uDC00 surrogate',
  'reversed pair \uDC00\uD83D',
  'NUL \u0000 and a lone \uDFFF',
];

/** JSON nested `depth` levels deep, as text: deeper than some destinations' parsers go. */
export function deepJsonText(depth: number): string {
  return '{"deep": ' + '['.repeat(depth) + '"bottom"' + ']'.repeat(depth) + '}';
}

/**
 * json-column texts some destinations cannot store as given: text that is not JSON (the source passes on what
 * was ingested), escaped lone surrogates and NUL (JSONB refuses them), a raw lone surrogate, 1,200 levels of nesting.
 */
export const LOSSY_JSON_TEXTS: readonly string[] = [
  '{"unterminated": ',
  'not json at all',
  "{'single': 'quotes'}",
  '',
  '{"a": 1} trailing',
  '{"escaped lone surrogates": "\\ud800 and \\udc00"}',
  '{"escaped nul": "a\\u0000b"}',
  '{"raw lone surrogate": "\uDC00"}',
  deepJsonText(1200),
];

/**
 * Event rows `from .. from+count-1` whose string and json columns hold LOSSY_STRINGS and LOSSY_JSON_TEXTS (every
 * one of them at least once with the default count). Keys are plain.
 */
export function lossyEventRows(interval: Interval, from: number, count = 2 * LOSSY_JSON_TEXTS.length): Row[] {
  return eventRows(interval, from, count).map((row, k) => ({
    ...row,
    event: LOSSY_STRINGS[k % LOSSY_STRINGS.length],
    distinct_id: k % 4 === 1 ? LOSSY_STRINGS[(k + 2) % LOSSY_STRINGS.length] : `user-${k}`,
    elements_chain: k % 2 === 1 ? LOSSY_STRINGS[(k + 1) % LOSSY_STRINGS.length] : null,
    properties: LOSSY_JSON_TEXTS[k % LOSSY_JSON_TEXTS.length],
    person_properties: k % 3 === 0 ? LOSSY_JSON_TEXTS[(k + 4) % LOSSY_JSON_TEXTS.length] : null,
    set: k % 5 === 2 ? LOSSY_JSON_TEXTS[(k + 2) % LOSSY_JSON_TEXTS.length] : null,
    set_once: null,
  }));
}
