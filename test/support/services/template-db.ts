/** Creates `outport_template`: Outport's metadata schema and graphile-worker's, migrated once; test files clone it. */
import { Client } from 'pg';
import { migrateMetadataStore } from '../../../src/store/migrate';

export const TEMPLATE_DB = 'outport_template';

export async function prepareTemplateDatabase(serverUrl: string): Promise<void> {
  const c = new Client(serverUrl);
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  } finally {
    await c.end();
  }
  const u = new URL(serverUrl);
  u.pathname = '/' + TEMPLATE_DB;
  await migrateMetadataStore(u.toString());
}
