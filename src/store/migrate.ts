/** Brings a metadata database up to date: Outport's TypeORM migrations, then graphile-worker's own schema. */
import 'reflect-metadata';
import { Logger, runMigrations } from 'graphile-worker';
import { createDataSource } from './data-source';

export async function migrateMetadataStore(url: string): Promise<void> {
  const ds = createDataSource(url, { poolSize: 2, applicationName: 'outport-migrate' });
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
  await runMigrations({ connectionString: url, logger: silentGraphileLogger() });
}

export function silentGraphileLogger(): Logger {
  return new Logger(() => () => undefined);
}
