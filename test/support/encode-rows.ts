/** `ConformanceFixture.encodeRows` on the suite's embedded ClickHouse: the byte path's SQL over the kit's rows. */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { EncodedRun, WireFormat } from '../../src/sdk/destination';
import type { ModelSchema, Row } from '../../src/sdk/models';
import { encodedRunFromRows } from '../../src/source/encoded';

let client: ClickHouseClient | undefined;

export async function encodeRowsWithClickHouse(rows: Row[], schema: ModelSchema, format: WireFormat): Promise<{ run: EncodedRun; done(): Promise<void> }> {
  const url = process.env.OUTPORT_TEST_CLICKHOUSE_URL;
  if (!url) throw new Error('OUTPORT_TEST_CLICKHOUSE_URL is not set: run the tests with `npm test` (jest globalSetup starts ClickHouse)');
  client ??= createClient({ url, request_timeout: 120_000 });
  return encodedRunFromRows(client, 'conformance_encode', schema, rows, format);
}
