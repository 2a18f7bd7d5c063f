/** Creates `outport_template`, the migrated metadata database each test file clones. */
import { Client } from 'pg';

export const TEMPLATE_DB = 'outport_template';

export async function prepareTemplateDatabase(serverUrl: string): Promise<void> {
  const c = new Client(serverUrl);
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  } finally {
    await c.end();
  }
}
