/**
 * A dedicated embedded Postgres a test can stop and start again on the same port and data (a metadata-store
 * outage), without touching the suite's shared server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded-postgres';

export interface StoppablePostgres {
  /** URL of the `outport` database on it. */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startStoppablePostgres(): Promise<StoppablePostgres> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-outage-'));
  fs.chmodSync(root, 0o755);
  const dataDir = path.join(root, 'pg');
  const port = await freePort();
  let server: EmbeddedPostgres | undefined = await startEmbeddedPostgres({ dataDir, port, persistent: true });
  const admin = new Client(server.url);
  await admin.connect();
  await admin.query('CREATE DATABASE outport');
  await admin.end();
  return {
    url: server.url.replace(/\/postgres$/, '/outport'),
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async start() {
      server = await startEmbeddedPostgres({ dataDir, port, persistent: true });
    },
    async destroy() {
      await server?.stop().catch(() => undefined);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
