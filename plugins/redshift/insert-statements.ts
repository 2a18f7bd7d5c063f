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

export interface ValuesStatement {
  text: string;
  rows: number;
  /** Bytes of the statement's text, as counted against the limit. */
  bytes: number;
}

/**
 * The byte path's statements: ClickHouse writes one row literal `(...)` per line (src/source/wire/redshift.ts,
 * format `redshift-values`); lines are grouped, never parsed, into `INSERT INTO stage (...) VALUES (...),(...)`
 * statements of at most `maxBytes` of text (the values are in the text: there are no parameters). Each line's
 * `\n` becomes the `,` between tuples, so a statement is one copy of the bytes received.
 */
export class ValuesStatements {
  private readonly head: Buffer;
  private readonly maxBytes: number;
  /** Complete lines of the statement being gathered, each ending in `,`. */
  private lines: Buffer[] = [];
  private rows = 0;
  private bytes: number;
  /** The start of a line whose end has not arrived yet. */
  private partial: Buffer[] = [];

  private readonly maxRows: number;

  constructor(table: string, columns: readonly Column[], limits: { maxBytes?: number; maxRows?: number } = {}) {
    this.head = Buffer.from(`INSERT INTO ${table} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES `, 'utf8');
    this.maxBytes = limits.maxBytes ?? MAX_STATEMENT_BYTES;
    this.maxRows = limits.maxRows ?? Infinity;
    this.bytes = this.head.length;
  }

  /** Takes the next bytes of the stream; returns the statements that filled up. */
  add(chunk: Uint8Array): ValuesStatement[] {
    const full: ValuesStatement[] = [];
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    for (let nl = bytes.indexOf(10, from); nl !== -1; nl = bytes.indexOf(10, from)) {
      bytes[nl] = 0x2c; // ','
      const piece = bytes.subarray(from, nl + 1);
      const line = this.partial.length ? Buffer.concat([...this.partial, piece]) : piece;
      this.partial = [];
      from = nl + 1;
      // The last tuple's `,` is not sent: a line costs its length, separator included.
      if (this.rows > 0 && (this.bytes + line.length - 1 > this.maxBytes || this.rows >= this.maxRows)) full.push(this.flush()!);
      if (this.head.length + line.length - 1 > this.maxBytes) {
        throw new Error(`one row needs ${this.head.length + line.length - 1} bytes, over the ${this.maxBytes}-byte statement limit`);
      }
      this.lines.push(line);
      this.rows++;
      this.bytes += line.length;
    }
    if (from < bytes.length) this.partial.push(Buffer.from(bytes.subarray(from)));
    return full;
  }

  /** The statement holding the lines added since the last flush, or undefined when there are none. */
  flush(): ValuesStatement | undefined {
    if (this.partial.length) throw new Error('the stream of row literals ended in the middle of a line');
    if (this.rows === 0) return undefined;
    const text = Buffer.concat([this.head, ...this.lines]);
    const statement = { text: text.toString('utf8', 0, text.length - 1), rows: this.rows, bytes: text.length - 1 };
    this.lines = [];
    this.rows = 0;
    this.bytes = this.head.length;
    return statement;
  }
}
