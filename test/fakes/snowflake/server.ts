/**
 * A small, protocol-faithful fake of the Snowflake service for the official `snowflake-sdk` driver: the login,
 * query, result, telemetry and session-delete endpoints, PUT through a LOCAL_FS stage, and SQL executed by a real
 * Postgres database (one per fake). See README.md for what it covers and what it does not.
 */
import { createHash, createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Client } from 'pg';
import { BUILTINS_SQL, Engine, pgSchemaName, type SessionState, type StatementResult } from './engine';
import { faults, SnowflakeFault } from './errors';

export interface FakeUser {
  name: string;
  password?: string;
  /** PEM public key registered for key-pair (JWT) authentication. */
  publicKeyPem?: string;
}

export type Injection =
  | { status: number }
  | { drop: true }
  | { fault: { code: string; message: string; sqlState?: string } };

export interface InjectionRule {
  /** `login`, or a pattern matched against the SQL text of query requests. */
  when: 'login' | RegExp;
  /** How many matching requests fail. Default: 1. */
  times?: number;
  then: Injection;
}

export interface FakeSnowflakeOptions {
  /** Admin URL of a Postgres server; the fake creates its own database there. */
  pgUrl: string;
  account?: string;
  users?: FakeUser[];
  databases?: Record<string, string[]>;
  warehouses?: string[];
  /**
   * A statement still running after this long is answered "in progress" (code 333333, with its result URL, which the
   * driver polls), as Snowflake answers long statements, so no request outlasts the driver's own timeout (the
   * plugin sets 60 s; a timed-out request is sent again). Default: 30,000.
   */
  inProgressAfterMs?: number;
}

export interface FakeSnowflake {
  accessUrl: string;
  port: number;
  account: string;
  stageRoot: string;
  inject(rule: InjectionRule): void;
  /** Drops injections not yet consumed. */
  clearInjections(): void;
  setWarehouseState(name: string, state: 'STARTED' | 'SUSPENDED'): void;
  addUser(user: FakeUser): void;
  createSchema(db: string, schema: string): Promise<void>;
  /** Every row of a table, raw strings (for test read-back). */
  readTable(db: string, schema: string, table: string): Promise<Record<string, string | null>[]>;
  tableExists(db: string, schema: string, table: string): Promise<boolean>;
  /** Tables in a schema (exact names). */
  listTables(db: string, schema: string): Promise<string[]>;
  /** Files left in any stage (relative paths). */
  stageFiles(): string[];
  /** SQL texts received, in order. */
  readonly statements: string[];
  stop(): Promise<void>;
}

interface Session {
  user: string;
  state: SessionState;
  ready: Promise<void>;
}

const RAW_TYPES = { getTypeParser: () => (v: string) => v };

export async function startFakeSnowflake(opts: FakeSnowflakeOptions): Promise<FakeSnowflake> {
  const account = (opts.account ?? 'FAKEACCT').toUpperCase();
  const dbName = `fake_sf_${randomBytes(5).toString('hex')}`;
  const admin = new Client(opts.pgUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(opts.pgUrl);
  dbUrl.pathname = '/' + dbName;
  const pgOptions = { connectionString: dbUrl.toString(), types: RAW_TYPES, options: '-c TimeZone=UTC' };
  const inspector = new Client(pgOptions);
  await inspector.connect();
  await inspector.query(BUILTINS_SQL);

  const stageRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-snowflake-stage-'));
  const catalog = {
    databases: new Map<string, Set<string>>(),
    warehouses: new Map<string, 'STARTED' | 'SUSPENDED'>((opts.warehouses ?? ['COMPUTE_WH']).map((w) => [w, 'STARTED'])),
    stageRoot,
  };
  const engine = new Engine(catalog);
  const users = new Map<string, FakeUser>();
  const addUser = (u: FakeUser) => users.set(u.name.toUpperCase(), u);
  (opts.users ?? [{ name: 'OUTPORT', password: 'secret' }]).forEach(addUser);
  const createSchema = async (db: string, schema: string) => {
    if (!catalog.databases.has(db)) catalog.databases.set(db, new Set());
    catalog.databases.get(db)!.add(schema);
    await inspector.query(`CREATE SCHEMA IF NOT EXISTS "${pgSchemaName(db, schema)}"`);
  };
  for (const [db, schemas] of Object.entries(opts.databases ?? { OUTPORT: ['PUBLIC'] })) {
    for (const schema of schemas) await createSchema(db, schema);
  }

  const sessions = new Map<string, Session>();
  const rules: InjectionRule[] = [];
  const results = new Map<string, unknown>();
  const statements: string[] = [];
  /** Statements by the driver's requestId: a request sent again (same id) joins the one already running, as on Snowflake. */
  type Outcome = { data: object } | { error: unknown };
  const byRequestId = new Map<string, { queryId: string; outcome: Promise<Outcome> }>();
  const byQueryId = new Map<string, Promise<Outcome>>();
  const inProgressAfterMs = opts.inProgressAfterMs ?? 30_000;

  const takeInjection = (what: 'login' | string): Injection | undefined => {
    const i = rules.findIndex((r) => (r.when === 'login' ? what === 'login' : what !== 'login' && r.when.test(what)));
    if (i < 0) return undefined;
    const rule = rules[i];
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) rules.splice(i, 1);
    return rule.then;
  };

  const login = (body: any, query: URLSearchParams): object => {
    const data = body?.data ?? {};
    const user = users.get(String(data.LOGIN_NAME ?? '').toUpperCase());
    if (data.AUTHENTICATOR === 'SNOWFLAKE_JWT') {
      if (!user?.publicKeyPem) throw faults.badJwt('no public key registered for this user');
      checkJwt(String(data.TOKEN ?? ''), user, account);
    } else if (!user || user.password === undefined || user.password !== data.PASSWORD) {
      throw faults.badCredentials();
    }
    const token = randomUUID();
    const pg = new Client(pgOptions);
    const state: SessionState = { warehouse: query.get('warehouse') ?? undefined, statementTimeoutSeconds: 172800, pg };
    const ready = pg.connect().then(() => undefined);
    ready.catch(() => undefined); // surfaced by the first query of the session
    sessions.set(token, { user: user.name, state, ready });
    return {
      token,
      masterToken: randomUUID(),
      validityInSeconds: 3600,
      masterValidityInSeconds: 14400,
      sessionId: Math.floor(Math.random() * 1e12),
      parameters: [],
      sessionInfo: {
        databaseName: query.get('databaseName'),
        schemaName: query.get('schemaName'),
        warehouseName: query.get('warehouse'),
        roleName: query.get('roleName') ?? 'PUBLIC',
      },
    };
  };

  const runQuery = async (session: Session, sql: string, queryId: string): Promise<object> => {
    await session.ready;
    const r: StatementResult = await engine.execute(session.state, sql);
    if (r.upload) {
      return {
        queryId,
        command: 'UPLOAD',
        src_locations: [r.upload.srcLocation],
        autoCompress: r.upload.autoCompress,
        sourceCompression: r.upload.sourceCompression,
        parallel: 1,
        overwrite: r.upload.overwrite,
        stageInfo: { locationType: 'LOCAL_FS', location: r.upload.stageDir, path: '', region: null, creds: {} },
        encryptionMaterial: null,
        rowtype: [],
        rowset: [],
        parameters: [],
      };
    }
    const data = { queryId, rowtype: r.rowtype, rowset: r.rowset, total: r.rowset.length, returned: r.rowset.length, parameters: [], queryResultFormat: 'json' };
    results.set(queryId, data);
    if (results.size > 100) results.delete(results.keys().next().value!);
    return data;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        let raw = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') raw = zlib.gunzipSync(raw);
        const body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
        const send = (status: number, payload: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(payload));
        };
        const ok = (data: unknown) => send(200, { success: true, code: null, message: null, data });
        const fail = (f: SnowflakeFault, extra: object = {}) =>
          send(200, { success: false, code: f.code, message: f.message, data: { errorCode: f.code, sqlState: f.sqlState, internalError: false, ...extra } });
        const applyInjection = (inj: Injection | undefined): boolean => {
          if (!inj) return false;
          if ('drop' in inj) req.socket.destroy();
          else if ('status' in inj) send(inj.status, { message: `injected HTTP ${inj.status}` });
          else fail(new SnowflakeFault(inj.fault.code, inj.fault.message, inj.fault.sqlState));
          return true;
        };
        try {
          if (url.pathname === '/session/v1/login-request') {
            if (applyInjection(takeInjection('login'))) return;
            return ok(login(body, url.searchParams));
          }
          if (url.pathname === '/telemetry/send') return ok(null);
          const token = /Snowflake Token="([^"]+)"/.exec(req.headers.authorization ?? '')?.[1];
          const session = token ? sessions.get(token) : undefined;
          if (!session) return fail(faults.sessionGone());
          if (url.pathname === '/session' && url.searchParams.get('delete') === 'true') {
            sessions.delete(token!);
            await session.ready.catch(() => undefined);
            await session.state.pg.end().catch(() => undefined);
            return ok(null);
          }
          // The outcome of a statement, or "in progress" with the URL to poll when it takes longer than inProgressAfterMs.
          const answer = async (queryId: string, outcome: Promise<Outcome>) => {
            let timer: NodeJS.Timeout | undefined;
            const waited = await Promise.race([outcome, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), inProgressAfterMs)))]);
            clearTimeout(timer);
            if (!waited) {
              return send(200, { success: true, code: '333333', message: 'Query execution is in progress', data: { queryId, getResultUrl: `/queries/${queryId}/result` } });
            }
            if ('data' in waited) return ok(waited.data);
            throw waited.error;
          };
          if (url.pathname === '/queries/v1/query-request') {
            const requestId = url.searchParams.get('requestId') ?? randomUUID();
            const running = byRequestId.get(requestId);
            if (running) return await answer(running.queryId, running.outcome);
            const sql = String(body?.sqlText ?? '');
            statements.push(sql);
            if (applyInjection(takeInjection(sql))) return;
            const queryId = randomUUID();
            const outcome = runQuery(session, sql, queryId).then((data): Outcome => ({ data }), (error): Outcome => ({ error }));
            byRequestId.set(requestId, { queryId, outcome });
            byQueryId.set(queryId, outcome);
            for (const m of [byRequestId, byQueryId] as Map<string, unknown>[]) if (m.size > 100) m.delete(m.keys().next().value!);
            return await answer(queryId, outcome);
          }
          const resultMatch = url.pathname.match(/^\/queries\/([^/]+)\/result$/);
          if (resultMatch && byQueryId.has(resultMatch[1])) return await answer(resultMatch[1], byQueryId.get(resultMatch[1])!);
          if (resultMatch && results.has(resultMatch[1])) return ok(results.get(resultMatch[1]));
          send(404, { message: `fake Snowflake: no route ${req.method} ${url.pathname}` });
        } catch (err) {
          if (err instanceof SnowflakeFault) return fail(err);
          send(500, { message: (err as Error).message });
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    accessUrl: `http://127.0.0.1:${port}`,
    port,
    account,
    stageRoot,
    statements,
    inject: (rule) => void rules.push({ ...rule }),
    clearInjections: () => void rules.splice(0),
    setWarehouseState: (name, state) => void catalog.warehouses.set(name, state),
    addUser,
    createSchema,
    readTable: (db, schema, table) => engine.readTable(inspector, db, schema, table),
    tableExists: (db, schema, table) => engine.tableExists(inspector, db, schema, table),
    listTables: async (db, schema) =>
      (await inspector.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [pgSchemaName(db, schema)])).rows.map(
        (r) => r.table_name as string,
      ),
    stageFiles: () => listFiles(stageRoot),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions.values()) await s.state.pg.end().catch(() => undefined);
      await inspector.end();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
      fs.rmSync(stageRoot, { recursive: true, force: true });
    },
  };
}

function listFiles(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(root, path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name)));
}

/** Verifies a key-pair login JWT the way Snowflake does: RS256 signature, subject, public-key fingerprint, expiry. */
function checkJwt(token: string, user: FakeUser, account: string): void {
  const [h, p, sig] = token.split('.');
  if (!h || !p || !sig) throw faults.badJwt('malformed');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  if (header.alg !== 'RS256') throw faults.badJwt(`unsupported alg ${header.alg}`);
  const key = createPublicKey(user.publicKeyPem!);
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, Buffer.from(sig, 'base64url'))) throw faults.badJwt('signature does not verify');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const fingerprint = 'SHA256:' + createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('base64');
  const subject = `${account}.${user.name.toUpperCase()}`;
  if (payload.sub !== subject) throw faults.badJwt(`subject ${payload.sub} is not ${subject}`);
  if (payload.iss !== `${subject}.${fingerprint}`) throw faults.badJwt('issuer fingerprint does not match the registered key');
  // The Node driver writes exp in milliseconds; accept seconds too.
  const exp = Number(payload.exp);
  if (!(exp * (exp < 1e12 ? 1000 : 1) > Date.now())) throw faults.badJwt('expired');
}
