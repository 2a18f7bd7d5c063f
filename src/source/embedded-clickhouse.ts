/**
 * An embedded ClickHouse: the real engine (chdb) in a child process, reachable over ClickHouse's HTTP interface
 * so that the rest of Outport talks to it with `@clickhouse/client` exactly as to a ClickHouse server.
 * What the HTTP layer implements and what it does not is listed at the top of embedded-clickhouse-server.js.
 *
 * A child process because the engine binds one data directory per process and its synchronous calls would
 * block our event loop; a crash of the engine also cannot take the caller down with it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface EmbeddedClickHouseOptions {
  /** Directory holding the databases (created if missing). One running instance per directory. */
  dataDir: string;
  /** TCP port on 127.0.0.1. Default: 0 (a free port). */
  port?: number;
  /** How long to wait for the engine to come up. Default: 60000 ms. */
  startTimeoutMs?: number;
}

export interface EmbeddedClickHouse {
  /** `http://127.0.0.1:<port>`, ready for `createClient({ url })`. */
  url: string;
  /** Stops the child process (data stays in `dataDir`). Idempotent. */
  stop(): Promise<void>;
}

const SERVER_FILE = 'embedded-clickhouse-server.js';

/** The server module lives in src/source/ (plain JS, never compiled); from dist/src/source/ it is three levels up. */
function serverModulePath(): string {
  const candidates = [path.join(__dirname, SERVER_FILE), path.resolve(__dirname, '../../../src/source', SERVER_FILE)];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`embedded ClickHouse: cannot find ${SERVER_FILE} (looked in ${candidates.join(', ')})`);
  return found;
}

export async function startEmbeddedClickHouse(options: EmbeddedClickHouseOptions): Promise<EmbeddedClickHouse> {
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const child = fork(serverModulePath(), [], {
    env: { ...process.env, OUTPORT_CH_DATA_DIR: dataDir, OUTPORT_CH_PORT: String(options.port ?? 0) },
    // The child runs plain JS: never inherit a TS loader or inspector flags from the parent (ts-jest, --inspect).
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  const port = await waitForReady(child, options.startTimeoutMs ?? 60_000);
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => (stopped ??= stopChild(child)),
  };
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`embedded ClickHouse did not start within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type?: string; port?: number; message?: string }) => {
      if (m?.type === 'ready' && typeof m.port === 'number') {
        cleanup();
        resolve(m.port);
      } else if (m?.type === 'error') fail(new Error(`embedded ClickHouse failed to start: ${m.message}`));
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`embedded ClickHouse exited during start-up (code ${code}, signal ${signal})`));
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const fail = (err: Error) => {
      cleanup();
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(err);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
