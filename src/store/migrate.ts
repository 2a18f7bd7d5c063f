/**
 * Brings a metadata database up to date: Outport's TypeORM migrations, then graphile-worker's own schema.
 *
 * Every role migrates at start, and several processes often start together on a fresh store (compose, a
 * Kubernetes roll-out): a session-level advisory lock makes them take turns, so the first migrates and the others
 * find nothing left to do, instead of racing on CREATE TABLE.
 */
import 'reflect-metadata';
import { Client } from 'pg';
import { Logger, runMigrations } from 'graphile-worker';
import { createDataSource } from './data-source';

const MIGRATION_LOCK = `hashtext('outport:migrate')`;

export async function migrateMetadataStore(url: string): Promise<void> {
  const lock = new Client({ connectionString: url, application_name: 'outport-migrate-lock' });
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    const ds = createDataSource(url, { poolSize: 2, applicationName: 'outport-migrate' });
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
    } finally {
      await ds.destroy();
    }
    await runMigrations({ connectionString: url, logger: silentGraphileLogger() });
  } finally {
    // Ending the session releases the lock too; unlock first so the next process need not wait for the socket.
    await lock.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}

export function silentGraphileLogger(): Logger {
  return new Logger(() => () => undefined);
}
