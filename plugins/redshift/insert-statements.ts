/**
 * Multi-row INSERT statements with bound parameters, cut so that each stays under Redshift's 16 MB statement
 * limit and its 32,767 parameters per statement. Values travel as parameters, never spliced into the SQL, so
 * quotes, backslashes and odd Unicode need no escaping (and Redshift's backslash-escaping literals don't matter).
 *
 * Size accounting is exact and conservative: a statement's size is the UTF-8 length of its SQL text plus, per
 * parameter, its UTF-8 length and the 4-byte length word the wire protocol adds.
 */
import { BufferPool, type Column } from '../../src/sdk';
import { finishQueryMessage, QUERY_MESSAGE_HEAD_BYTES, QUERY_MESSAGE_TAIL_BYTES, quoteIdent } from '../../src/sdk/pgwire';
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
  /** The statement as a complete Query message for `queryMessage`; its memory is reused after `release()`. */
  message: Buffer;
  rows: number;
  /** Bytes of the statement's text, as counted against the limit. */
  bytes: number;
  /** The statement's SQL text (decoded on demand: for tests and diagnostics, never on the data path). */
  sql(): string;
  /** Hands the statement's memory to the next statement: call once the server has answered (or failed). */
  release(): void;
}

export interface ValuesStatementsLimits {
  /** Statement text limit. Default: Redshift's 16 MB. */
  maxBytes?: number;
  /** Rows per statement. Default: no limit but the bytes. */
  maxRows?: number;
  /** Statements that exist at once (gathered, waiting or running); the next waits for a release. Default: 2. */
  statementsAtOnce?: number;
}

/**
 * The byte path's statements: ClickHouse writes one row literal `(...)` per line (src/source/wire/redshift.ts,
 * format `redshift-values`); lines are grouped, never parsed, into `INSERT INTO stage (...) VALUES (...),(...)`
 * statements of at most `maxBytes` of text (the values are in the text: there are no parameters). Each line's
 * `\n` becomes the `,` between tuples.
 *
 * Memory is bounded and reused: each line is copied once, as it arrives, into the Query message of the statement
 * being gathered, and the messages live in `statementsAtOnce` buffers that are reused after `release()`. No
 * statement exists as a JS string (a few MB of text per statement would be a UTF-16 copy, plus node-postgres'
 * serialisation copies, left for the garbage collector: the worker peaked at 323 MiB on 1M events).
 */
export class ValuesStatements {
  private readonly head: Buffer;
  private readonly maxBytes: number;
  private readonly maxRows: number;
  private readonly buffers: StatementBuffers;

  constructor(table: string, columns: readonly Column[], limits: ValuesStatementsLimits = {}) {
    this.head = Buffer.from(`INSERT INTO ${table} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES `, 'utf8');
    this.maxBytes = limits.maxBytes ?? MAX_STATEMENT_BYTES;
    this.maxRows = limits.maxRows ?? Infinity;
    if (this.head.length >= this.maxBytes) throw new Error(`the INSERT head alone needs ${this.head.length} bytes, over the ${this.maxBytes}-byte statement limit`);
    this.buffers = new StatementBuffers(limits.statementsAtOnce ?? 2, QUERY_MESSAGE_HEAD_BYTES + this.maxBytes + QUERY_MESSAGE_TAIL_BYTES);
  }

  /** Statement buffers allocated so far (never more than `statementsAtOnce`). */
  get buffersAllocated(): number {
    return this.buffers.allocated;
  }

  /** The statements of a stream of row literal lines, in order; waits for a release when `statementsAtOnce` exist. */
  async *statements(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<ValuesStatement> {
    const textStart = QUERY_MESSAGE_HEAD_BYTES + this.head.length;
    let buf = await this.buffers.acquire();
    this.head.copy(buf, QUERY_MESSAGE_HEAD_BYTES);
    let len = textStart;
    let lineStart = textStart;
    let rows = 0;
    const ensure = (need: number) => {
      if (need > buf.length) buf = this.buffers.grow(buf, need, len);
    };
    // Closes the statement of the complete lines before `lineStart`; the line begun after them moves to a new buffer.
    const cut = async (): Promise<ValuesStatement> => {
      const begun = len - lineStart;
      let next = await this.buffers.acquire();
      if (textStart + begun + 1 > next.length) next = this.buffers.grow(next, textStart + begun + 1, 0);
      this.head.copy(next, QUERY_MESSAGE_HEAD_BYTES);
      buf.copy(next, textStart, lineStart, len);
      // The last tuple's `,` is where the message's NUL goes.
      const statement = this.statement(buf, lineStart - 1 - QUERY_MESSAGE_HEAD_BYTES, rows);
      buf = next;
      len = textStart + begun;
      lineStart = textStart;
      rows = 0;
      return statement;
    };
    for await (const chunk of chunks) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let from = 0; from < bytes.length; ) {
        if (len === lineStart && rows >= this.maxRows) yield await cut();
        const nl = bytes.indexOf(10, from);
        const end = nl === -1 ? bytes.length : nl;
        // The statement's text with the line so far, checked as the line grows so a buffer never exceeds the limit.
        if (len + (end - from) - QUERY_MESSAGE_HEAD_BYTES > this.maxBytes) {
          const lineBytes = len - lineStart + (end - from);
          if (rows === 0 || this.head.length + lineBytes > this.maxBytes) {
            throw new Error(`one row needs more than ${this.maxBytes - this.head.length} bytes, over the ${this.maxBytes}-byte statement limit with its INSERT head`);
          }
          yield await cut();
        }
        ensure(len + (end - from) + 1);
        bytes.copy(buf, len, from, end);
        len += end - from;
        from = end;
        if (nl !== -1) {
          buf[len++] = 0x2c; // ','
          lineStart = len;
          rows++;
          from = nl + 1;
        }
      }
    }
    if (len !== lineStart) throw new Error('the stream of row literals ended in the middle of a line');
    if (rows > 0) yield this.statement(buf, lineStart - 1 - QUERY_MESSAGE_HEAD_BYTES, rows);
    else this.buffers.release(buf);
  }

  private statement(buf: Buffer, textBytes: number, rows: number): ValuesStatement {
    const message = finishQueryMessage(buf, textBytes);
    let released = false;
    return {
      message,
      rows,
      bytes: textBytes,
      sql: () => message.toString('utf8', QUERY_MESSAGE_HEAD_BYTES, QUERY_MESSAGE_HEAD_BYTES + textBytes),
      release: () => {
        if (released) return;
        released = true;
        this.buffers.release(buf);
      },
    };
  }
}

/**
 * At most `max` statement buffers, reused: each starts at FIRST_BUFFER_BYTES (or `capacity`, if smaller) and is grown
 * on demand up to `capacity`; a grown buffer goes back to the pool in place of the one it replaced.
 */
class StatementBuffers extends BufferPool {
  constructor(
    max: number,
    private readonly capacity: number,
  ) {
    super(max, Math.min(capacity, FIRST_BUFFER_BYTES));
  }

  /** A larger buffer in place of `buf`, holding its first `used` bytes. */
  grow(buf: Buffer, need: number, used: number): Buffer {
    if (need > this.capacity) throw new Error(`a statement buffer of ${need} bytes exceeds its ${this.capacity}-byte capacity`);
    const larger = Buffer.allocUnsafeSlow(Math.min(this.capacity, Math.max(need, buf.length * 2)));
    buf.copy(larger, 0, 0, used);
    return larger;
  }
}

/** A statement buffer's first size; it doubles as statements need (a few MB at the row path's rows per statement). */
const FIRST_BUFFER_BYTES = 1024 * 1024;
