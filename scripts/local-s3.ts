/**
 * A local S3-compatible server (s3rver) for the test suite and the benchmark. It runs in a child process because
 * s3rver's ListObjectsV2 continuation tokens use a cipher Node only offers with `--openssl-legacy-provider`.
 * Clients must use `requestChecksumCalculation: 'WHEN_REQUIRED'`: s3rver stores aws-chunked (checksum-trailer)
 * bodies of streamed PUTs verbatim, corrupting them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface LocalS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver keeps the objects. */
  dir: string;
  stop(): Promise<void>;
}

const CHILD = `
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
DUMMY_ACCOUNT.createKeyPair(process.env.S3_ACCESS_KEY_ID, process.env.S3_SECRET_ACCESS_KEY);
const buckets = JSON.parse(process.env.S3_BUCKETS || '[]').map((name) => ({ name }));
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.env.S3_DIR, vhostBuckets: false,
  configureBuckets: buckets });
server.run().then(
  (addr) => process.send({ port: addr.port }),
  (err) => { process.send({ error: String(err && err.stack || err) }); process.exit(1); },
);
process.on('disconnect', () => server.close().finally(() => process.exit(0)));
`;

export async function startLocalS3(o: { dir: string; accessKeyId: string; secretAccessKey: string; buckets?: string[] }): Promise<LocalS3> {
  fs.mkdirSync(o.dir, { recursive: true });
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    // s3rver is resolved from the project's node_modules, wherever the caller runs from.
    cwd: path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..'),
    env: { ...process.env, S3_DIR: o.dir, S3_BUCKETS: JSON.stringify(o.buckets ?? []), S3_ACCESS_KEY_ID: o.accessKeyId, S3_SECRET_ACCESS_KEY: o.secretAccessKey },
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
    accessKeyId: o.accessKeyId,
    secretAccessKey: o.secretAccessKey,
    dir: o.dir,
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
