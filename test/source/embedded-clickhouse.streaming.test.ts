/**
 * What the embedded ClickHouse's HTTP endpoint streams must be what a ClickHouse server streams: one valid
 * document or file per query whatever the number of engine blocks, read back here with readers that share no
 * code with the engine (apache-arrow, parquet-wasm, zlib, JSON.parse).
 */
import http from 'node:http';
import zlib, { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { loadParquetLibs } from '../../src/sdk/files/parquet';
import { clickHouseUrl } from './support/clickhouse';

/** Small blocks so that every query below spans dozens of engine blocks. */
const MANY_BLOCKS = { max_block_size: '1000' } as const;
const N = 30_000;
const ROWS = `SELECT number AS n, toString(number) AS s FROM numbers(${N})`;
const SUM = (N * (N - 1)) / 2;

async function bytesOf(client: ClickHouseClient, query: string, format: string, settings: Record<string, string> = {}): Promise<Buffer> {
  const rs = await client.exec({ query: `${query} FORMAT ${format}`, clickhouse_settings: { ...MANY_BLOCKS, ...settings } });
  const chunks: Buffer[] = [];
  for await (const c of rs.stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The response's bytes as sent (fetch would decode gzip and br itself). */
async function rawBytes(query: string, params: Record<string, string>, headers: Record<string, string>): Promise<{ status: number; coding?: string; body: Buffer }> {
  const url = new URL(clickHouseUrl());
  for (const [k, v] of Object.entries({ ...MANY_BLOCKS, ...params })) url.searchParams.set(k, v);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, coding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(query);
  });
}

async function rawRequest(query: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const url = new URL(clickHouseUrl());
  for (const [k, v] of Object.entries({ ...MANY_BLOCKS, ...params })) url.searchParams.set(k, v);
  return fetch(url, { method: 'POST', body: query, headers });
}

/** zstd with Node's own codec (Node >= 22.15; CI runs the suite on 22 and 24 too); on older Node only its frame magic. */
function unzstd(b: Buffer): Buffer {
  const decompress = (zlib as unknown as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
  if (decompress) return decompress(b);
  expect(b.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  return Buffer.from(`${Array.from({ length: N }, (_, n) => JSON.stringify({ n: String(n) })).join('\n')}\n`);
}

describe('embedded ClickHouse streams one valid output per query', () => {
  let client: ClickHouseClient;
  beforeAll(() => {
    client = createClient({ url: clickHouseUrl(), request_timeout: 120_000 });
  });
  afterAll(async () => {
    await client.close();
  });

  it('Parquet: one file with every row, read back by parquet-wasm', async () => {
    const data = await bytesOf(client, ROWS, 'Parquet', { output_format_parquet_compression_method: 'zstd' });
    expect(data.subarray(0, 4).toString()).toBe('PAR1');
    expect(data.subarray(-4).toString()).toBe('PAR1');
    const { arrow, pq } = await loadParquetLibs();
    const table = arrow.tableFromIPC(pq.readParquet(data).intoIPCStream());
    expect(table.numRows).toBe(N);
    let sum = 0;
    let i = 0;
    let mismatches = 0;
    const s = table.getChild('s')!;
    for (const v of table.getChild('n')!) {
      sum += Number(v);
      if (s.get(i) !== String(v)) mismatches++;
      i++;
    }
    expect(sum).toBe(SUM);
    expect(mismatches).toBe(0);
  });

  it.each(['ArrowStream', 'Arrow'])('%s: one Arrow IPC stream/file with every row, read back by apache-arrow', async (format) => {
    const data = await bytesOf(client, ROWS, format, { output_format_arrow_compression_method: 'none' });
    const { arrow } = await loadParquetLibs();
    const table = arrow.tableFromIPC(data);
    expect(table.numRows).toBe(N);
    let sum = 0;
    for (const v of table.getChild('n')!) sum += Number(v);
    expect(sum).toBe(SUM);
  });

  it('ORC and Avro: one file (a single magic number at the start)', async () => {
    const orc = await bytesOf(client, ROWS, 'ORC');
    expect(orc.subarray(0, 3).toString()).toBe('ORC');
    expect(orc.indexOf('ORC', 3)).toBe(orc.length - 4); // the postscript's magic, then its length byte, close the one file
    const avro = await bytesOf(client, ROWS, 'Avro');
    expect(avro.subarray(0, 4)).toEqual(Buffer.from('Obj\x01', 'latin1'));
    expect(avro.indexOf(Buffer.from('Obj\x01', 'latin1'), 4)).toBe(-1);
  });

  it('formats with a header or a document around the rows write it once', async () => {
    const csv = (await bytesOf(client, ROWS, 'CSVWithNames')).toString().split('\n');
    expect(csv[0]).toBe('"n","s"');
    expect(csv.filter((l) => l === '"n","s"')).toHaveLength(1);
    expect(csv).toHaveLength(N + 2); // header, rows, and the empty string after the last newline

    const tsv = (await bytesOf(client, ROWS, 'TabSeparatedWithNamesAndTypes')).toString().split('\n');
    expect(tsv.slice(0, 2)).toEqual(['n\ts', 'UInt64\tString']);
    expect(tsv).toHaveLength(N + 3);

    const json = JSON.parse((await bytesOf(client, ROWS, 'JSON')).toString());
    expect(json.rows).toBe(N);
    expect(json.data).toHaveLength(N);

    const totals = JSON.parse(
      (await bytesOf(client, `SELECT number % 3 AS k, count() AS c FROM numbers(${N}) GROUP BY k WITH TOTALS ORDER BY k`, 'JSONCompact', {
        output_format_json_quote_64bit_integers: '0',
      })).toString(),
    );
    expect(totals.data).toEqual([[0, 10000], [1, 10000], [2, 10000]]);
    expect(totals.totals).toEqual([0, N]);
  });

  it('gzip responses decompress to exactly one stream with every row', async () => {
    const res = await rawRequest(`${ROWS} FORMAT JSONEachRow`, { enable_http_compression: '1' }, { 'Accept-Encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    // fetch has already gunzipped this body; the client below keeps the bytes as sent to check the one gzip stream
    const lines = (await res.text()).split('\n');
    expect(lines).toHaveLength(N + 1);
    const last = JSON.parse(lines[N - 1]);
    expect([Number(last.n), last.s]).toEqual([N - 1, String(N - 1)]);

    const gz = createClient({ url: clickHouseUrl(), compression: { response: true } });
    const raw = await gz.exec({ query: `${ROWS} FORMAT JSONEachRow`, clickhouse_settings: MANY_BLOCKS, decompress_response_stream: false });
    const chunks: Buffer[] = [];
    for await (const c of raw.stream) chunks.push(c as Buffer);
    await gz.close();
    const body = Buffer.concat(chunks);
    expect(body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gunzipSync(body).toString().split('\n')).toHaveLength(N + 1);
  });

  it.each([
    ['br', (b: Buffer) => brotliDecompressSync(b)],
    ['zstd', unzstd],
  ])('%s responses (as a server sends them) decompress to exactly one stream with every row', async (coding, decompress) => {
    const res = await rawBytes(`${ROWS} FORMAT JSONEachRow`, { enable_http_compression: '1' }, { 'Accept-Encoding': coding });
    expect(res.status).toBe(200);
    expect(res.coding).toBe(coding);
    const lines = decompress(res.body).toString().split('\n');
    expect(lines).toHaveLength(N + 1);
    expect(lines[N]).toBe('');
    expect(lines.slice(0, N).reduce((sum, l) => sum + Number(JSON.parse(l).n), 0)).toBe(SUM);
  });

  it('compresses at http_zlib_compression_level (level 1 writes more bytes than level 9)', async () => {
    const size = async (level: string) => {
      const res = await rawBytes(`${ROWS} FORMAT JSONEachRow`, { enable_http_compression: '1', http_zlib_compression_level: level }, { 'Accept-Encoding': 'gzip' });
      expect(gunzipSync(res.body).toString().split('\n')).toHaveLength(N + 1);
      return res.body.byteLength;
    };
    expect(await size('1')).toBeGreaterThan(await size('9'));
  });

  it('answers an error raised before any row with the ClickHouse status and no partial body', async () => {
    const res = await rawRequest(`SELECT throwIf(number = 5) AS x FROM numbers(10) FORMAT CSVWithNames`, {});
    expect(res.status).toBe(500);
    expect(res.headers.get('x-clickhouse-exception-code')).toBe('395');
    expect(await res.text()).toMatch(/^Code: 395\. DB::Exception: .*FUNCTION_THROW_IF_VALUE_IS_NON_ZERO/);
  });

  it('fails the response of a binary format whose query fails after bytes were sent, never a short success', async () => {
    const res = await rawRequest(
      // Incompressible rows in one ordered stream: megabytes leave before the failing row is reached.
      `SELECT number AS n, randomPrintableASCII(100) AS s, throwIf(number = 400000) AS x FROM numbers(500000) FORMAT Parquet`,
      { max_block_size: '1000', max_threads: '1', output_format_parquet_row_group_size: '10000' },
    );
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it('reports a failure after rows were sent in a gzip response too', async () => {
    const gz = createClient({ url: clickHouseUrl(), compression: { response: true } });
    const read = async () => {
      const rs = await gz.query({
        query: 'SELECT number, randomPrintableASCII(100) AS s, throwIf(number = 400000) AS x FROM numbers(500000)',
        format: 'JSONCompactEachRow',
        clickhouse_settings: { max_block_size: '1000', max_threads: '1' },
      });
      let rows = 0;
      for await (const chunk of rs.stream()) rows += chunk.length;
      return rows;
    };
    // The exception frame (code 395) when the client reads it before the connection breaks; a reset otherwise.
    // Either way the read fails: never a short stream that looks complete.
    const err = (await read().then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string } | undefined;
    expect(err).toBeDefined();
    expect(['395', 'ECONNRESET']).toContain(String(err?.code));
    await gz.close();
  });

  it('binds query parameters on streamed and buffered statements', async () => {
    const rs = await client.query({
      query: 'SELECT count() AS c, any({tag:String}) AS tag FROM numbers({n:UInt64}) WHERE number % {m:UInt8} = 0',
      query_params: { n: 1000, m: 7, tag: "it's \\ \t fine" },
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    expect(await rs.json()).toEqual([{ c: 143, tag: "it's \\ \t fine" }]);
    // WITH TOTALS is answered from a buffered run: its parameters must bind the same way
    const totals = await client.query({
      query: 'SELECT {k:String} AS k, count() AS c FROM numbers({n:UInt64}) GROUP BY k WITH TOTALS',
      query_params: { k: "a'b", n: 10 },
      format: 'JSONCompact',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const doc = await totals.json<{ data: unknown[]; totals: unknown[] }>();
    expect([doc.data, doc.totals]).toEqual([[["a'b", 10]], ["a'b", 10]]);
  });

  it('runs parameterized queries concurrently, each with its own values', async () => {
    const order: string[] = [];
    const count = async (label: string, n: number, m: number, totals = '') => {
      const rs = await client.query({
        query: `SELECT count() AS c, {m:UInt64} AS m FROM numbers({n:UInt64}) WHERE number % {m:UInt64} = 0 GROUP BY m ${totals}`,
        query_params: { n, m },
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      const rows = await rs.json<{ c: number; m: number }>();
      order.push(label);
      return rows[0];
    };
    // A buffered statement (WITH TOTALS) that takes seconds, then streamed ones while it runs.
    const slow = count('slow', 2_000_000_000, 4, 'WITH TOTALS');
    await new Promise((r) => setTimeout(r, 300));
    const [a, b] = await Promise.all([count('quick', 1_000_000, 10), count('quick', 2_000_000, 7)]);
    expect(a).toEqual({ c: 100_000, m: 10 });
    expect(b).toEqual({ c: 285_715, m: 7 });
    expect(await slow).toEqual({ c: 500_000_000, m: 4 });
    // Behind a process-wide lock the quick queries would wait for the slow one to finish.
    expect(order).toEqual(['quick', 'quick', 'slow']);
  });

  it('stops the query when the client goes away', async () => {
    const marker = `cancel_${process.pid}_${Date.now()}`;
    const ac = new AbortController();
    const rs = await client.query({
      query: `SELECT number, '${marker}' AS m FROM numbers(10000000000)`,
      format: 'JSONCompactEachRow',
      abort_signal: ac.signal,
    });
    let rows = 0;
    for await (const chunk of rs.stream()) {
      rows += chunk.length;
      if (rows > 20000) break;
    }
    ac.abort();
    const running = async () => {
      const r = await client.query({
        query: `SELECT count() AS c FROM system.processes WHERE position(query, {m:String}) > 0 AND position(query, 'system.processes') = 0`,
        query_params: { m: marker },
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      return (await r.json<{ c: number }>())[0].c;
    };
    let left = await running();
    for (let i = 0; i < 100 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await running();
    }
    expect(left).toBe(0);
  });
});
