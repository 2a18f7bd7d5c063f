/**
 * The values Snowflake cannot take as given, changed by the shared rules (src/sdk/replacements.ts) before they are
 * staged, each changed value counted per column and rule for `WriteResult.replacements`:
 * - `lone_surrogate`: an unpaired UTF-16 surrogate in a string or json value becomes U+FFFD (VARCHAR is UTF-8,
 *   which cannot encode it).
 * - `invalid_json_as_string`: a json value that is not JSON is stored as a JSON string holding its text
 *   (PARSE_JSON would fail the whole run on it, on every attempt).
 * The byte path applies the same rules in SQL (src/source/wire/snowflake.ts), where the host counts them; a lone
 * surrogate cannot reach it (the source's text is valid UTF-8).
 */
import { ReplacementCounter, type ModelSchema, type Row, type Value } from '../../src/sdk';

const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;
type MaybeWellFormed = string & { isWellFormed?(): boolean };
const isWellFormed = (s: string) => (s as MaybeWellFormed).isWellFormed?.() ?? !/[\uD800-\uDFFF]/u.test(s);

export class SnowflakeValueRules {
  /** Values changed, per column and rule: what the run reports as `WriteResult.replacements`. */
  readonly replacements = new ReplacementCounter();

  constructor(private readonly schema: ModelSchema) {}

  /** `row` as it is staged: the same object when nothing needs changing. */
  row(row: Row): Row {
    let out: Row | undefined;
    for (const c of this.schema.columns) {
      const v = row[c.name];
      if (typeof v !== 'string' || (c.type !== 'string' && c.type !== 'json')) continue;
      const changed = c.type === 'json' ? this.json(c.name, v) : this.text(c.name, v);
      if (changed !== v) (out ??= { ...row })[c.name] = changed;
    }
    return out ?? row;
  }

  private text(column: string, v: string): string {
    if (isWellFormed(v)) return v;
    this.replacements.add(column, 'lone_surrogate');
    return v.replace(LONE_SURROGATES, '\uFFFD');
  }

  private json(column: string, v: string): Value {
    const text = this.text(column, v);
    try {
      JSON.parse(text);
      return text;
    } catch {
      this.replacements.add(column, 'invalid_json_as_string');
      return JSON.stringify(text);
    }
  }
}
