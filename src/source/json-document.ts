/**
 * The JSON text ClickHouse's JSON functions may read in place of a stored document.
 *
 * A lone surrogate escape (`"Buy now \ud83d"`, what JSON.stringify writes for a string cut inside a surrogate pair)
 * is valid JSON, but ClickHouse's parsers (simdjson and rapidjson alike) reject the WHOLE document for it: every
 * JSON function then answers as for an empty document. `readableJson` gives those functions a copy in which each
 * lone surrogate escape reads `\ufffd` (U+FFFD, as TextDecoder and Python's 'replace' decode it), every other byte
 * unchanged, so the copy has the same structure and length. The stored text is never replaced: exports keep it
 * byte for byte.
 *
 * The repair respects backslash parity: `\\ud83d` is an escaped backslash followed by text, not an escape.
 * 1. every escaped backslash `\\` becomes \x01 (replaceAll is leftmost non-overlapping, so escapes pair up as a
 *    JSON reader pairs them); every backslash left starts an escape;
 * 2. the backslashes of valid high+low pairs become \x02;
 * 3. any `\uD800`-`\uDFFF` escape still introduced by a backslash is lone: it becomes `\ufffd`;
 * 4. \x02 and \x01 are turned back into `\` and `\\`.
 * Raw control characters cannot occur in valid JSON, so a document already holding \x01 or \x02 is invalid for
 * another reason and left as it is.
 *
 * Cost: documents without `\ud`/`\uD` (nearly all) pay one case-insensitive substring search; ClickHouse
 * evaluates `if` branches lazily, so the repair runs only for the documents that need it.
 *
 * Text that is not valid UTF-8 is read with each run of invalid bytes as U+FFFD (ClickHouse toValidUTF8, the same rule
 * the exported text follows, see utf8.ts).
 *
 * Other valid JSON ClickHouse's JSON functions reject as a whole, not repaired here (measured on ClickHouse 26.7):
 * nesting deeper than 1,023 levels, integers (no fraction or exponent) below -2^63 or above 2^64-1, numbers that
 * overflow a double (`1e400`): repairing those would need to tell number tokens from string contents. A UTF-8 BOM is accepted. With duplicate keys the FIRST value wins (JavaScript's
 * JSON.parse keeps the last).
 */
export function readableJson(stored: string): string {
  // Invalid UTF-8 makes the parsers reject the whole document too: they read it with each run of invalid bytes as
  // U+FFFD (toValidUTF8, the rule the exported text follows), computed only for the documents that need it.
  const column = `if(isValidUTF8(${stored}), ${stored}, toValidUTF8(${stored}))`;
  return String.raw`if(positionCaseInsensitive(${column}, '\\ud') > 0 AND NOT match(${column}, '[\x01\x02]'),
    replaceAll(replaceAll(
      replaceRegexpAll(
        replaceRegexpAll(replaceAll(${column}, '\\\\', '\x01'),
          '\\\\u([dD][89abAB][0-9a-fA-F]{2})\\\\u([dD][c-fC-F][0-9a-fA-F]{2})', '\x02u\\1\x02u\\2'),
        '\\\\u[dD][89a-fA-F][0-9a-fA-F]{2}', '\\\\ufffd'),
      '\x02', '\\'), '\x01', '\\\\'),
    ${column})`;
}

/** Lone surrogates in a JS string as U+FFFD: how a filter value compares with a repaired document. */
export function wellFormedText(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
