/** A fresh ClickHouse database per test file on the suite's embedded ClickHouse. */
import { randomBytes } from 'node:crypto';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { parseSourceConfig } from '../../../src/source/config';
import { createSourceTables } from '../../../src/source/schema';
import { ClickHouseSource } from '../../../src/source/source';
import type { RecordBatch, Row } from '../../../src/sdk/models';

export function clickHouseUrl(): string {
  const url = process.env.OUTPORT_TEST_CLICKHOUSE_URL;
  if (!url) throw new Error('OUTPORT_TEST_CLICKHOUSE_URL is not set: run the tests with `npm test` (jest globalSetup starts ClickHouse)');
  return url;
}

export async function createTestClickHouse(prefix: string): Promise<{
  client: ClickHouseClient;
  database: string;
  source: ClickHouseSource;
  drop(): Promise<void>;
}> {
  const url = clickHouseUrl();
  const database = `${prefix}_${randomBytes(4).toString('hex')}`;
  const client = createClient({ url, request_timeout: 120_000 });
  await createSourceTables(client, { database });
  const source = new ClickHouseSource(client, parseSourceConfig({ url, database }));
  return {
    client,
    database,
    source,
    drop: async () => {
      await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await client.close();
    },
  };
}

export async function collect(batches: AsyncIterable<RecordBatch>): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const b of batches) rows.push(...b.rows);
  return rows;
}
