/**
 * The benchmark's servers, all local and all real: one embedded Postgres (metadata store AND destination server),
 * the embedded ClickHouse (chdb) holding the generated data, and s3rver as the S3-compatible endpoint.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createSourceClient, createSourceTables, parseSourceConfig, startEmbeddedClickHouse } from '../src/source';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres';
import { migrateMetadataStore } from '../src/store/migrate';

export const CH_DATABASE = 'bench';
export const S3_BUCKET = 'bench';

export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  dir: string;
  stop(): Promise<void>;
}

export interface Services {
  root: string;
  /** Superuser URL of the `postgres` database. */
  pgAdminUrl: string;
  metadataUrl: string;
  destinationUrl: string;
  destination: { host: string; port: number; database: string; user: string; password: string };
  clickhouseUrl: string;
  ch: ReturnType<typeof createSourceClient>;
  s3: S3Server;
  stop(): Promise<void>;
}

export async function startServices(root: string): Promise<Services> {
  fs.mkdirSync(root, { recursive: true });
  // Root runs Postgres as the postgres user, which must be able to enter the data directory's parents.
  fs.chmodSync(root, 0o755);
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const pg = await startEmbeddedPostgres({ dataDir: path.join(root, 'pg'), persistent: false });
    stops.push(() => pg.stop());
    const admin = new Client(pg.url);
    await admin.connect();
    await admin.query('CREATE DATABASE outport');
    await admin.query('CREATE DATABASE dest');
    await admin.end();
    const metadataUrl = pg.url.replace(/\/postgres$/, '/outport');
    const destinationUrl = pg.url.replace(/\/postgres$/, '/dest');
    await migrateMetadataStore(metadataUrl);

    const chServer = await startEmbeddedClickHouse({ dataDir: path.join(root, 'ch') });
    stops.push(() => chServer.stop());
    const ch = createSourceClient(parseSourceConfig({ url: chServer.url, requestTimeoutMs: 3_600_000 }));
    stops.push(() => ch.close());
    await ch.command({ query: `CREATE DATABASE ${CH_DATABASE}` });
    await createSourceTables(ch, { database: CH_DATABASE });

    const s3 = await startS3rver(path.join(root, 's3'));
    stops.push(() => s3.stop());
    const u = new URL(pg.url);
    return {
      root,
      pgAdminUrl: pg.url,
      metadataUrl,
      destinationUrl,
      destination: { host: u.hostname, port: Number(u.port), database: 'dest', user: u.username, password: decodeURIComponent(u.password) },
      clickhouseUrl: chServer.url,
      ch,
      s3,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// A child process: s3rver's ListObjectsV2 continuation tokens need `--openssl-legacy-provider`.
const S3RVER_CHILD = `
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
DUMMY_ACCOUNT.createKeyPair(process.env.S3_ACCESS_KEY_ID, process.env.S3_SECRET_ACCESS_KEY);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.env.S3_DIR, vhostBuckets: false,
  configureBuckets: [{ name: process.env.S3_BUCKET }] });
server.run().then(
  (addr) => process.send({ port: addr.port }),
  (err) => { process.send({ error: String(err && err.stack || err) }); process.exit(1); },
);
process.on('disconnect', () => server.close().finally(() => process.exit(0)));
`;

async function startS3rver(dir: string): Promise<S3Server> {
  fs.mkdirSync(dir, { recursive: true });
  const accessKeyId = 'outport-bench';
  const secretAccessKey = 'outport-bench-secret';
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', S3RVER_CHILD], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: { ...process.env, S3_DIR: dir, S3_BUCKET, S3_ACCESS_KEY_ID: accessKeyId, S3_SECRET_ACCESS_KEY: secretAccessKey },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('s3rver did not start within 30 s')), 30_000);
    child.once('message', (m: { port?: number; error?: string }) => {
      clearTimeout(timer);
      if (m.port) resolve(m.port);
      else reject(new Error(`s3rver failed to start: ${m.error}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited during start-up (code ${code})`));
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId,
    secretAccessKey,
    dir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.disconnect();
      }),
  };
}
