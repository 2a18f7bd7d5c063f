/**
 * Starts the real services the suite runs against, once per `npm test`, and hands their addresses to test
 * workers through environment variables (workers are forked after this runs, so they inherit them).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres';
import { startTestClickHouse } from './services/clickhouse';
import { startTestS3 } from './services/s3';
import { prepareTemplateDatabase } from './services/template-db';

type Stoppable = { stop(): Promise<void> };

export default async function globalSetup(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-test-'));
  fs.chmodSync(root, 0o755);
  const stops: Stoppable[] = [];
  (globalThis as { __outportServices?: { root: string; stops: Stoppable[] } }).__outportServices = { root, stops };

  const [pg, ch, s3] = await Promise.all([
    startEmbeddedPostgres({ dataDir: path.join(root, 'pg'), persistent: false }),
    startTestClickHouse(path.join(root, 'clickhouse')),
    startTestS3(path.join(root, 's3')),
  ]);
  stops.push(pg, ...(ch ? [ch] : []), ...(s3 ? [s3] : []));
  process.env.OUTPORT_TEST_PG_URL = pg.url;
  if (ch) process.env.OUTPORT_TEST_CLICKHOUSE_URL = ch.url;
  if (s3) {
    process.env.OUTPORT_TEST_S3_ENDPOINT = s3.endpoint;
    process.env.OUTPORT_TEST_S3_ACCESS_KEY = s3.accessKeyId;
    process.env.OUTPORT_TEST_S3_SECRET_KEY = s3.secretAccessKey;
  }
  await prepareTemplateDatabase(pg.url);
}
