/**
 * The embedded ClickHouse streams each SELECT through a named pipe. Making pipes forks the server (mkfifo): 3 ms at
 * 100 MiB resident, 75-260 ms at 1 GiB (the engine's caches after a few backfill runs), and no other request of the
 * server moves meanwhile, so many small runs at once queued behind it. A pipe nobody holds open carries nothing
 * over, so a query's pipe serves the next query: after warm-up the server makes no new ones, and every answer is
 * still exactly its own query's, also after a failed or abandoned query.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { startEmbeddedClickHouse, type EmbeddedClickHouse } from '../../src/source/embedded-clickhouse';

describe('embedded ClickHouse named pipes', () => {
  let root: string;
  let server: EmbeddedClickHouse;
  let client: ClickHouseClient;
  let gzipClient: ClickHouseClient;
  let pipeDir: string;
  const previousTmp = process.env.TMPDIR;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-pipes-test-'));
    // The server makes its pipe directory under its temporary directory: this one is the test's alone.
    process.env.TMPDIR = path.join(root, 'tmp');
    fs.mkdirSync(process.env.TMPDIR);
    try {
      server = await startEmbeddedClickHouse({ dataDir: path.join(root, 'data') });
    } finally {
      if (previousTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previousTmp;
    }
    client = createClient({ url: server.url });
    gzipClient = createClient({ url: server.url, compression: { response: true } });
    const [dir] = fs.readdirSync(path.join(root, 'tmp')).filter((d) => d.startsWith('outport-ch-pipes-'));
    pipeDir = path.join(root, 'tmp', dir);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await gzipClient?.close();
    await server?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const numbersFrom = async (c: ClickHouseClient, from: number, count: number): Promise<number[]> => {
    const rs = await c.query({ query: `SELECT toUInt32(${from} + number) AS n FROM numbers(${count})`, format: 'JSONEachRow' });
    return (await rs.json<{ n: number }>()).map((r) => r.n);
  };

  it('makes no new pipes once warm, and each answer is its own query\'s after failed and abandoned queries', async () => {
    const seen = new Set<string>();
    const look = () => fs.readdirSync(pipeDir).forEach((name) => seen.add(name.replace(/\.(gz|br|zst)$/, '')));
    for (let i = 0; i < 60; i++) {
      const c = i % 2 ? gzipClient : client;
      // Sequential queries each stream from a different start: a pipe carrying a byte over would show here.
      expect(await numbersFrom(c, i * 1000, 50)).toEqual(Array.from({ length: 50 }, (_, k) => i * 1000 + k));
      if (i % 10 === 3) {
        await expect(c.query({ query: 'SELECT throwIf(number = 5) FROM numbers(10)', format: 'JSONEachRow' }).then((r) => r.json())).rejects.toThrow();
      }
      if (i % 10 === 7) {
        const ac = new AbortController();
        const rs = await c.query({ query: 'SELECT number FROM numbers(100000000)', format: 'JSONEachRow', abort_signal: ac.signal });
        for await (const _ of rs.stream()) break;
        ac.abort();
      }
      look();
    }
    // One batch of pipes (16) serves a client that runs one query at a time; before, every query used up one.
    expect(seen.size).toBeLessThanOrEqual(16);
  }, 120_000);

  it('answers concurrent queries each with its own rows through reused pipes', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => numbersFrom(i % 2 ? gzipClient : client, 1_000_000 * (i + 1), 2000)));
    answers.forEach((rows, i) => expect(rows).toEqual(Array.from({ length: 2000 }, (_, k) => 1_000_000 * (i + 1) + k)));
  }, 120_000);
});
