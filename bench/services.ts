/**
 * The benchmark's servers, all local and all real: one embedded Postgres (metadata store AND destination server),
 * the embedded ClickHouse (chdb) holding the generated data, and s3rver as the S3-compatible endpoint.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createSourceClient, createSourceTables, parseSourceConfig, startEmbeddedClickHouse } from '../src/source';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres';
import { migrateMetadataStore } from '../src/store/migrate';
import { startLocalS3, type LocalS3 } from '../scripts/local-s3';

export const CH_DATABASE = 'bench';
export const S3_BUCKET = 'bench';

export type S3Server = LocalS3;

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

function startS3rver(dir: string): Promise<S3Server> {
  return startLocalS3({ dir, accessKeyId: 'outport-bench', secretAccessKey: 'outport-bench-secret', buckets: [S3_BUCKET] });
}
