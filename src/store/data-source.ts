import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { Initial1764000000000 } from './migrations/1764000000000-initial';
import { RunReplacements1764100000000 } from './migrations/1764100000000-run-replacements';
import { WorkerProcesses1765000000000 } from './migrations/1765000000000-worker-processes';
import { Notifications1766000000000 } from './migrations/1766000000000-notifications';
import { ExportRunConcurrency1766500000000 } from './migrations/1766500000000-export-run-concurrency';
import { ExportFieldsCustomQuery1767000000000 } from './migrations/1767000000000-export-fields-custom-query';
import { ExportSchemaMode1767100000000 } from './migrations/1767100000000-export-schema-mode';
import { ExportLayout1767300000000 } from './migrations/1767300000000-export-layout';
import { ExportUnpausedAt1767400000000 } from './migrations/1767400000000-export-unpaused-at';
import { RunAttempts1767200000000 } from './migrations/1767200000000-run-attempts';

export const MIGRATIONS = [Initial1764000000000, RunReplacements1764100000000, WorkerProcesses1765000000000, Notifications1766000000000, ExportRunConcurrency1766500000000, ExportFieldsCustomQuery1767000000000, ExportSchemaMode1767100000000, RunAttempts1767200000000, ExportLayout1767300000000, ExportUnpausedAt1767400000000];

/** The metadata store. Schema changes go through migrations only (never `synchronize`). */
export function createDataSource(url: string, opts: { poolSize?: number; applicationName?: string } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize: opts.poolSize ?? 10,
    applicationName: opts.applicationName ?? 'outport',
  });
}
