import { ClickHouseError, createClient, type ClickHouseClient } from '@clickhouse/client';
import { clickHouseUrl } from './support/clickhouse';

describe('embedded ClickHouse over HTTP, driven by @clickhouse/client', () => {
  let client: ClickHouseClient;
  const db = `http_${process.pid}`;

  beforeAll(async () => {
    client = createClient({ url: clickHouseUrl() });
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
    await client.command({ query: `CREATE TABLE ${db}.t (id UInt64, s String, ts DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY id` });
  });
  afterAll(async () => {
    await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await client.close();
  });

  it('answers ping', async () => {
    expect(await client.ping()).toEqual({ success: true });
    const res = await fetch(`${clickHouseUrl()}/ping`);
    expect(await res.text()).toBe('Ok.\n');
  });

  it('inserts JSONEachRow and selects with bound parameters, hostile values intact', async () => {
    const hostile = "q'uote \"dq\" back\\slash \t tab \n nl \u0000 nul 😀 \u202E";
    await client.insert({
      table: `${db}.t`,
      values: [
        { id: 1, s: hostile, ts: '2024-01-01 00:00:00.000001' },
        { id: 2, s: 'plain', ts: '2024-01-01 00:00:00.000002' },
      ],
      format: 'JSONEachRow',
    });
    const rs = await client.query({
      query: `SELECT toUInt32(id) AS id, s, toString(ts) AS ts FROM ${db}.t WHERE s = {s:String} OR id IN {ids:Array(UInt64)} ORDER BY id`,
      query_params: { s: hostile, ids: [2] },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([
      { id: 1, s: hostile, ts: '2024-01-01 00:00:00.000001' },
      { id: 2, s: 'plain', ts: '2024-01-01 00:00:00.000002' },
    ]);
    const viaDatabase = createClient({ url: clickHouseUrl(), database: db });
    const count = await viaDatabase.query({ query: 'SELECT count() AS n FROM t', format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
    expect(await count.json()).toEqual([{ n: 2 }]);
    await viaDatabase.close();
  });

  it('streams many rows in many chunks', async () => {
    const rs = await client.query({ query: 'SELECT number AS n FROM numbers(300000)', format: 'JSONCompactEachRow' });
    let rows = 0;
    let chunks = 0;
    let sum = 0;
    for await (const chunk of rs.stream<[string]>()) {
      chunks++;
      for (const row of chunk) {
        rows++;
        sum += Number(row.json()[0]);
      }
    }
    expect(rows).toBe(300000);
    expect(sum).toBe((299999 * 300000) / 2);
    expect(chunks).toBeGreaterThan(1);
  });

  it('raises ClickHouse errors with code and type, and answers with ClickHouse status codes', async () => {
    await expect(client.query({ query: 'SELEC 1' })).rejects.toMatchObject({ code: '62', type: 'SYNTAX_ERROR' });
    const err = await client.query({ query: `SELECT * FROM ${db}.missing`, format: 'JSONEachRow' }).catch((e) => e);
    expect(err).toBeInstanceOf(ClickHouseError);
    expect(err).toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });

    const res = await fetch(`${clickHouseUrl()}/?query=${encodeURIComponent(`SELECT * FROM ${db}.missing`)}`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-clickhouse-exception-code')).toBe('60');
    expect(await res.text()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\)/);
    const bad = await fetch(clickHouseUrl(), { method: 'POST', body: 'SELEC 1' });
    expect(bad.status).toBe(400);
  });

  it('reports an error raised after rows were already sent', async () => {
    // Small blocks make the first rows leave long before the failing one; should the server still see the error
    // before it flushed anything (a very loaded machine), the client gets it from query() instead: either way the
    // error must reach the caller, never a silently short result.
    const read = async () => {
      const rs = await client.query({
        query: 'SELECT throwIf(number = 250000) AS x FROM numbers(400000)',
        format: 'JSONEachRow',
        clickhouse_settings: { max_block_size: '1000' },
      });
      for await (const _ of rs.stream()) void _;
    };
    await expect(read()).rejects.toMatchObject({ code: '395', type: 'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO' });
  });

  it('applies settings given as URL parameters to that request only', async () => {
    const rs = await client.query({
      query: "SELECT getSetting('max_block_size') AS v",
      format: 'JSONEachRow',
      clickhouse_settings: { max_block_size: '1234' },
    });
    expect((await rs.json<{ v: unknown }>()).map((r) => String(r.v))).toEqual(['1234']);
    const again = await client.query({ query: "SELECT getSetting('max_block_size') = 1234 AS same", format: 'JSONEachRow' });
    expect(await again.json()).toEqual([{ same: 0 }]);
  });

  it('applies several settings and hostile parameters of one request together, and names an unknown setting', async () => {
    const hostile = "a'b\\c, d = 'e' \u0000";
    const rs = await client.query({
      query: "SELECT {s:String} AS s, {n:UInt32} + 1 AS n, getSetting('max_block_size') AS block, getSetting('output_format_json_quote_64bit_integers') AS quoted",
      query_params: { s: hostile, n: 41 },
      format: 'JSONEachRow',
      clickhouse_settings: { max_block_size: '4321', output_format_json_quote_64bit_integers: 0 },
    });
    expect((await rs.json<Record<string, unknown>>()).map((r) => ({ ...r, block: String(r.block) }))).toEqual([{ s: hostile, n: 42, block: '4321', quoted: false }]);
    await expect(
      client.query({ query: 'SELECT 1', format: 'JSONEachRow', clickhouse_settings: { max_block_size: '10', no_such_setting_here: 1 } as never }),
    ).rejects.toMatchObject({ code: '115', type: 'UNKNOWN_SETTING' });
  });

  it('accepts gzip-compressed requests and answers gzip when asked', async () => {
    const gz = createClient({ url: clickHouseUrl(), compression: { request: true, response: true } });
    await gz.insert({ table: `${db}.t`, values: [{ id: 3, s: 'gz', ts: '2024-01-01 00:00:00' }], format: 'JSONEachRow' });
    const rs = await gz.query({ query: `SELECT s FROM ${db}.t WHERE id = 3`, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ s: 'gz' }]);
    await gz.close();
  });

  it('keeps serving after a client walks away from a streaming query', async () => {
    const ac = new AbortController();
    const rs = await client.query({ query: 'SELECT number FROM numbers(1000000000)', format: 'JSONEachRow', abort_signal: ac.signal });
    let rows = 0;
    for await (const chunk of rs.stream()) {
      rows += chunk.length;
      if (rows > 50000) break;
    }
    ac.abort();
    expect(rows).toBeGreaterThan(50000);
    const started = Date.now();
    expect(await (await client.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' })).json()).toEqual([{ one: 1 }]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
