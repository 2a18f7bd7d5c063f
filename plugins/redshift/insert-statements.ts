/**
 * Multi-row INSERT statements with bound parameters, cut so that each stays under Redshift's 16 MB statement
 * limit and its 32,767 parameters per statement. Values travel as parameters, never spliced into the SQL, so
 * quotes, backslashes and odd Unicode need no escaping (and Redshift's backslash-escaping literals don't matter).
 *
 * Size accounting is exact and conservative: a statement's size is the UTF-8 length of its SQL text plus, per
 * parameter, its UTF-8 length and the 4-byte length word the wire protocol adds.
 */
import type { Column } from '../../src/sdk';
import { quoteIdent } from '../../src/sdk/pgwire';
import type { PropertiesType } from './sql';

/** Redshift: "The maximum size for a single SQL statement is 16 MB." */
export const MAX_STATEMENT_BYTES = 16 * 1024 * 1024;
/** Redshift's limit on parameters in one prepared statement. */
export const MAX_STATEMENT_PARAMS = 32_767;

export interface InsertStatement {
  text: string;
  values: (string | null)[];
  rows: number;
  /** Encoded size as counted against the limit. */
  bytes: number;
}

export interface InsertLimits {
  maxBytes: number;
  maxParams: number;
}

export class InsertStatementBuilder {
  private readonly head: string;
  private readonly headBytes: number;
  private readonly wrap: ((placeholder: string) => string)[];
  private readonly limits: InsertLimits;
  private tuples: string[] = [];
  private values: (string | null)[] = [];
  private bytes = 0;

  constructor(
    table: string,
    private readonly columns: readonly Column[],
    properties: PropertiesType,
    limits: Partial<InsertLimits> = {},
  ) {
    this.head = `INSERT INTO ${table} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES `;
    this.headBytes = Buffer.byteLength(this.head, 'utf8');
    // SUPER columns need the text parsed; a bound string would be stored as a SUPER string scalar.
    this.wrap = columns.map((c) => (c.type === 'json' && properties === 'super' ? (p) => `JSON_PARSE(${p})` : (p) => p));
    this.limits = { maxBytes: limits.maxBytes ?? MAX_STATEMENT_BYTES, maxParams: limits.maxParams ?? MAX_STATEMENT_PARAMS };
    if (columns.length > this.limits.maxParams) throw new Error('more columns than parameters allowed per statement');
  }

  get pendingRows(): number {
    return this.tuples.length;
  }

  /**
   * Adds one row (values in column order, already passed through the value rules). Returns the statement that
   * had to be closed first to make room for it, if any.
   */
  add(row: readonly (string | null)[]): InsertStatement | undefined {
    if (row.length !== this.columns.length) throw new Error(`a row has ${row.length} values for ${this.columns.length} columns`);
    let flushed: InsertStatement | undefined;
    if (this.tuples.length > 0) {
      const { cost } = this.tupleFor(row);
      if (this.bytes + cost > this.limits.maxBytes || this.values.length + row.length > this.limits.maxParams) flushed = this.flush();
    }
    const { tuple, cost } = this.tupleFor(row);
    if (this.headBytes + cost > this.limits.maxBytes) {
      throw new Error(`one row needs ${this.headBytes + cost} bytes, over the ${this.limits.maxBytes}-byte statement limit`);
    }
    if (this.tuples.length === 0) this.bytes = this.headBytes;
    this.tuples.push(tuple);
    for (const v of row) this.values.push(v);
    this.bytes += cost;
    return flushed;
  }

  /** The statement holding the rows added since the last flush, or undefined when there are none. */
  flush(): InsertStatement | undefined {
    if (this.tuples.length === 0) return undefined;
    const statement: InsertStatement = {
      text: this.head + this.tuples.join(', '),
      values: this.values,
      rows: this.tuples.length,
      bytes: this.bytes,
    };
    this.tuples = [];
    this.values = [];
    this.bytes = 0;
    return statement;
  }

  /** A row's tuple text at the current position, and the bytes it adds: the tuple (plus the `, ` separator) and,
   *  per parameter, its value and length word. */
  private tupleFor(row: readonly (string | null)[]): { tuple: string; cost: number } {
    const n = this.values.length;
    const tuple = '(' + row.map((_, i) => this.wrap[i](`$${n + i + 1}`)).join(', ') + ')';
    let cost = Buffer.byteLength(tuple, 'utf8') + (this.tuples.length > 0 ? 2 : 0);
    for (const v of row) cost += 4 + (v === null ? 0 : Buffer.byteLength(v, 'utf8'));
    return { tuple, cost };
  }
}
