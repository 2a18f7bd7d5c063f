/**
 * Every API operation that reads ClickHouse, asked while ClickHouse is unreachable (a real TCP cut after boot):
 * a typed SOURCE_UNAVAILABLE error naming ClickHouse and saying to try again, never an anonymous internal error,
 * and never a message that blames the user's input (a custom query that "does not parse").
 */
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(120_000);

describe('API operations that read ClickHouse during a ClickHouse outage', () => {
  let h: AppHarness;
  let proxy: TcpProxy;
  let exportId: string;

  beforeAll(async () => {
    const ch = new URL(process.env.OUTPORT_TEST_CLICKHOUSE_URL!);
    proxy = await startTcpProxy(Number(ch.port), ch.hostname);
    const viaProxy = new URL(ch);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    h = await startAppHarness({ roles: 'api', env: { CLICKHOUSE_URL: viaProxy.toString().replace(/\/$/, '') } });
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`,
      { c: { ...h.destination, table_name: 'unreachable', ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    exportId = createBatchExport.id;
    proxy.up = false;
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
  });

  /** The raw GraphQL answer (errors included), as a client sees it. */
  async function ask(query: string, variables: Record<string, unknown>) {
    const res = await fetch(h.app.apiUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] } };
  }

  const range = { s: '2026-01-01T00:00:00Z', t: '2026-01-02T00:00:00Z' };
  const operations: [string, string, () => Record<string, unknown>][] = [
    ['estimateBackfill', `query($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { estimateBackfill(batchExportId: $e, startAt: $s, endAt: $t) { runs rows } }`, () => ({ e: exportId, ...range })],
    ['createBackfill', `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`, () => ({ e: exportId, ...range })],
    ['createBackfill fromFirstEvent', `mutation($e: ID!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, fromFirstEvent: true, endAt: $t }) { id } }`, () => ({ e: exportId, t: range.t })],
    ['previewExportSchema with rows', `query { previewExportSchema(model: EVENTS, rows: 3) { columns { name } } }`, () => ({})],
    ['previewExportSchema of a custom query', `query($q: String!) { previewExportSchema(customQuery: { query: $q, primaryKey: ["uuid"] }) { columns { name } } }`,
      () => ({ q: 'SELECT uuid, event FROM events WHERE inserted_at >= {data_interval_start} AND inserted_at < {data_interval_end}' })],
  ];

  it.each(operations)('%s answers SOURCE_UNAVAILABLE naming ClickHouse', async (_name, query, variables) => {
    const { status, body } = await ask(query, variables());
    expect(status).toBeLessThan(500);
    expect(body.errors?.length).toBeGreaterThan(0);
    const [error] = body.errors!;
    expect(error.extensions?.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toMatch(/ClickHouse/);
    expect(error.message).toMatch(/try again/i);
    expect(error.message).not.toMatch(/does not parse|Internal server error/);
  });

  it('answers again once ClickHouse is back', async () => {
    proxy.up = true;
    const { body } = await ask(operations[0][1], operations[0][2]());
    expect(body.errors).toBeUndefined();
    proxy.up = false;
  });
});
