/** Per-test-file databases on the suite's embedded Postgres server. */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { TEMPLATE_DB } from './services/template-db';

export function testServerUrl(): string {
  const url = process.env.OUTPORT_TEST_PG_URL;
  if (!url) throw new Error('OUTPORT_TEST_PG_URL is not set: run the tests with `npm test` (jest globalSetup starts Postgres)');
  return url;
}

export function urlForDatabase(name: string): string {
  const u = new URL(testServerUrl());
  u.pathname = '/' + name;
  return u.toString();
}

/**
 * A fresh database for one test file. `migrated` clones the template (Outport's metadata schema applied);
 * otherwise the database is empty (use it as a destination server).
 */
export async function createTestDatabase(prefix = 't', migrated = true): Promise<{ name: string; url: string }> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  const c = new Client(testServerUrl());
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}${migrated ? ` TEMPLATE ${TEMPLATE_DB}` : ''}`);
  } finally {
    await c.end();
  }
  return { name, url: urlForDatabase(name) };
}
