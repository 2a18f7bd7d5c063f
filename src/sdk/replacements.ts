/**
 * Replacements: how a plugin (or the source) says it changed values by a documented lossy rule, so that the run
 * can show it (one WARN line per rule in the run's log, and the run's `replacements` field).
 *
 * A replacement is counted in VALUES: one value of `column` that `rule` changed counts 1, however many characters
 * in it were replaced. Rule ids are stable snake_case words; `WELL_KNOWN_RULES` holds the shared ones with their
 * wording, and a plugin may use its own id with a `description`.
 */

export interface Replacement {
  /** The model's column whose values were changed. */
  column: string;
  /** Stable id of the rule (`nul`, `invalid_json_as_string`, or the plugin's own). */
  rule: string;
  /** Values of `column` changed by `rule` in this run. */
  count: number;
  /** The rule in words, for the run's log. Default: the `WELL_KNOWN_RULES` entry, or the id. */
  description?: string;
}

/** The rules built-in plugins and the source apply, in the words the run's log uses. */
export const WELL_KNOWN_RULES: Readonly<Record<string, string>> = {
  invalid_utf8:
    'invalid UTF-8 in the source replaced with U+FFFD (each run of invalid bytes becomes one U+FFFD, as ClickHouse toValidUTF8)',
  nul: 'U+0000 (NUL) replaced with U+FFFD',
  lone_surrogate: 'unpaired UTF-16 surrogates replaced with U+FFFD',
  invalid_json_as_string: 'json values that are not valid JSON stored as a JSON string holding the text',
  json_too_deep_as_string: 'json values nested too deep for the destination stored as a JSON string holding the text',
  json_number_out_of_range_as_string: 'json values with a number the destination cannot hold stored as a JSON string holding the text',
  text_truncated: 'text over the destination\'s size limit cut at a character boundary',
  json_truncated_marker: 'json values over the destination\'s size limit replaced by {"$outport_truncated": true, "original_bytes": N}',
};

/** Counts replacements per (column, rule) while a run writes; `list()` is what `WriteResult.replacements` wants. */
export class ReplacementCounter {
  private readonly counts = new Map<string, Replacement>();

  add(column: string, rule: string, count = 1, description?: string): void {
    if (count <= 0) return;
    const key = `${rule}\u0000${column}`;
    const known = this.counts.get(key);
    if (known) known.count += count;
    else this.counts.set(key, { column, rule, count, ...(description ? { description } : {}) });
  }

  /** Adds every entry of another list (e.g. what the source counted) to this one. */
  addAll(replacements: readonly Replacement[] | undefined): void {
    for (const r of replacements ?? []) this.add(r.column, r.rule, r.count, r.description);
  }

  get total(): number {
    let n = 0;
    for (const r of this.counts.values()) n += r.count;
    return n;
  }

  /** Values changed by one rule, all columns together. */
  countOf(rule: string): number {
    let n = 0;
    for (const r of this.counts.values()) if (r.rule === rule) n += r.count;
    return n;
  }

  /** Sorted by rule, then column, so logs and stored rows are stable. */
  list(): Replacement[] {
    return [...this.counts.values()]
      .map((r) => ({ ...r }))
      .sort((a, b) => (a.rule === b.rule ? (a.column < b.column ? -1 : 1) : a.rule < b.rule ? -1 : 1));
  }
}

/** The rule's words: the replacement's own description, the well-known one, or the id. */
export function describeRule(r: Pick<Replacement, 'rule' | 'description'>): string {
  return r.description ?? WELL_KNOWN_RULES[r.rule] ?? r.rule;
}
