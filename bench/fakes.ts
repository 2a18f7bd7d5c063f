/**
 * The local stand-ins of the cloud warehouses, for the benchmark: the fake BigQuery and the fake Snowflake of the
 * test suite (test/fakes/*, protocol-faithful, storing in the benchmark's embedded Postgres) and a schema of the
 * destination database playing Redshift. The Outport worker reaches them through the real SDKs and drivers, as it
 * reaches the real services; they run in the benchmark process, so their CPU is not counted in the worker's.
 */
import { FakeBigQuery, type ServiceAccountKeyFile } from '../test/fakes/bigquery';
import { startFakeSnowflake, type FakeSnowflake } from '../test/fakes/snowflake/server';
import type { DestinationSpec } from './outport';
import type { Services } from './services';

export const BIGQUERY_DATASET = 'bench';
export const SNOWFLAKE_USER = 'OUTPORT_BENCH';
const SNOWFLAKE_PASSWORD = 'outport-bench-password';
export const SNOWFLAKE_DATABASE = 'ANALYTICS';
export const SNOWFLAKE_SCHEMA = 'PUBLIC';
const SNOWFLAKE_WAREHOUSE = 'COMPUTE_WH';

export interface Warehouses {
  bigquery?: { fake: FakeBigQuery; key: ServiceAccountKeyFile };
  snowflake?: FakeSnowflake;
  stop(): Promise<void>;
}

export async function startWarehouses(s: Services, which: { bigquery: boolean; snowflake: boolean }): Promise<Warehouses> {
  const w: Warehouses = {
    async stop() {
      await w.bigquery?.fake.stop().catch(() => undefined);
      await w.snowflake?.stop().catch(() => undefined);
    },
  };
  try {
    if (which.bigquery) {
      const fake = await FakeBigQuery.start({ pgServerUrl: s.pgAdminUrl });
      await fake.createDataset(BIGQUERY_DATASET);
      w.bigquery = { fake, key: fake.serviceAccountKey() };
    }
    if (which.snowflake) {
      w.snowflake = await startFakeSnowflake({
        pgUrl: s.pgAdminUrl,
        users: [{ name: SNOWFLAKE_USER, password: SNOWFLAKE_PASSWORD }],
        databases: { [SNOWFLAKE_DATABASE]: [SNOWFLAKE_SCHEMA] },
        warehouses: [SNOWFLAKE_WAREHOUSE],
      });
    }
    return w;
  } catch (err) {
    await w.stop();
    throw err;
  }
}

/** Redshift in insert mode (its default) on the benchmark's Postgres, as the test suite runs it. */
export function redshiftDestination(s: Services, table: string): DestinationSpec {
  return {
    type: 'redshift',
    config: { host: s.destination.host, port: s.destination.port, database: s.destination.database, user: s.destination.user, schema: 'public', ssl_mode: 'disable', table_name: table },
    secrets: { password: s.destination.password },
  };
}

export function bigQueryDestination(w: Warehouses, table: string): DestinationSpec {
  const { fake, key } = w.bigquery!;
  return {
    type: 'bigquery',
    config: { project_id: fake.projectId, dataset_id: BIGQUERY_DATASET, table_id: table, api_endpoint: fake.url },
    secrets: { credentials_json: JSON.stringify(key) },
  };
}

export function snowflakeDestination(w: Warehouses, table: string): DestinationSpec {
  const fake = w.snowflake!;
  return {
    type: 'snowflake',
    config: {
      account: fake.account, user: SNOWFLAKE_USER, warehouse: SNOWFLAKE_WAREHOUSE, database: SNOWFLAKE_DATABASE, schema: SNOWFLAKE_SCHEMA,
      table_name: table, access_url: fake.accessUrl,
    },
    secrets: { password: SNOWFLAKE_PASSWORD },
  };
}

/** The Snowflake plugin's config for the fake, for the limit's own session. */
export function snowflakeConfig(w: Warehouses, table: string) {
  const d = snowflakeDestination(w, table);
  return { ...d.config, ...d.secrets } as { account: string; user: string; password: string; warehouse: string; database: string; schema: string; table_name: string; access_url: string };
}
