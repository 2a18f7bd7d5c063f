/**
 * Test helpers for destinations that write to a Postgres-wire database (Postgres, and Redshift on its Postgres
 * stand-in): a fresh database on the suite's embedded server with configs pointing at fresh schemas, reading a
 * model's table back as Rows, a closed port, and catching the DestinationError of a call.
 *
 * Quoting here is written independently of the plugins' code, so a quoting bug there cannot hide itself.
 */
import net from 'node:net';
import { Client } from 'pg';
import { isDestinationError, MODEL_SCHEMAS, type DestinationError, type Model, type Row } from '../../src/sdk';
import { createTestDatabase, testServerUrl } from './pg';

export function quote(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * Reads a model's table back as Rows shaped like src/sdk/models.ts (no rows when the table does not exist).
 * JSON and int columns are read as text (a JSONB's text is its JSON; ints are turned into numbers).
 */
export async function readTable(url: string, schema: string, table: string, model: Model): Promise<Row[]> {
  const columns = MODEL_SCHEMAS[model].columns;
  const select = columns.map((c) => {
    const q = quote(c.name);
    if (c.type === 'timestamp') return `to_char(${q} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${q}`;
    if (c.type === 'json' || c.type === 'int') return `${q}::text AS ${q}`;
    return q;
  });
  const client = new Client(url);
  await client.connect();
  try {
    const exists = await client.query('SELECT to_regclass($1) AS t', [`${quote(schema)}.${quote(table)}`]);
    if (!exists.rows[0].t) return [];
    const { rows } = await client.query(`SELECT ${select.join(', ')} FROM ${quote(schema)}.${quote(table)}`);
    return rows.map((r: Row) => {
      for (const c of columns) if (c.type === 'int' && r[c.name] !== null) r[c.name] = Number(r[c.name]);
      return r;
    });
  } finally {
    await client.end();
  }
}

/** A local port nothing listens on (it was free a moment ago): connecting to it is refused. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The connection settings of the test database, as a destination config spells them. */
export interface TestConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

/**
 * A fresh database on the suite's server, with `base` (the destination's parsed config for it) and `freshSchema`
 * making a config that points at a new schema, by default named by `schemaName()` (names that need quoting).
 */
export async function pgTestDestination<C extends { schema: string }>(o: {
  prefix: string;
  parse(connection: TestConnection): C;
  schemaName(): string;
}) {
  const db = await createTestDatabase(o.prefix, false);
  const server = new URL(testServerUrl());
  const base = o.parse({
    host: server.hostname,
    port: Number(server.port),
    database: db.name,
    user: decodeURIComponent(server.username),
    password: decodeURIComponent(server.password),
  });
  async function sql(text: string, params: unknown[] = []) {
    const c = new Client(db.url);
    await c.connect();
    try {
      return await c.query(text, params);
    } finally {
      await c.end();
    }
  }
  async function freshSchema(name = o.schemaName()): Promise<C> {
    await sql(`CREATE SCHEMA ${quote(name)}`);
    return { ...base, schema: name };
  }
  async function drop() {
    const c = new Client(testServerUrl());
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${quote(db.name)} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  }
  return { db, base, sql, freshSchema, drop };
}

/** The DestinationError `p` rejects with; fails the test when it resolves or rejects with anything else. */
export async function destinationFailure(p: Promise<unknown>): Promise<DestinationError> {
  try {
    await p;
  } catch (err) {
    if (!isDestinationError(err)) throw new Error(`expected a DestinationError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected a failure, but the call succeeded');
}
