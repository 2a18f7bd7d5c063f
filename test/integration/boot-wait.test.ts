/**
 * A process started before its metadata store and ClickHouse are up (compose, a pod restart) waits for them, saying
 * what it waits for, and starts once they answer, instead of exiting (a crash loop under Kubernetes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/store/embedded-postgres';
import { startStoppablePostgres, type StoppablePostgres } from '../support/stoppable-postgres';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');

describe('starting before the metadata store and ClickHouse are up', () => {
  let store: StoppablePostgres;
  let clickhouse: TcpProxy;
  let child: ChildProcess | undefined;
  let dataDir: string;

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the suite with \`npm test\`, which builds first`);
    store = await startStoppablePostgres();
    await store.stop();
    clickhouse = await startTcpProxy(Number(new URL(process.env.OUTPORT_TEST_CLICKHOUSE_URL!).port));
    clickhouse.up = false;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-boot-wait-'));
  }, 60_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await clickhouse?.close();
    await store?.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('waits for each, logging what it awaits, then starts; a misspelled setting is warned about', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: store.url,
        CLICKHOUSE_URL: `http://127.0.0.1:${clickhouse.port}`,
        OUTPORT_SECRET_KEY: 'b'.repeat(64),
        OUTPORT_DATA_DIR: dataDir,
        OUTPORT_ROLES: 'api',
        PORT: String(port),
        DEMO: 'false',
        LOG_LEVEL: 'info',
        WORKER_CONCURENCY: '3',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    let exited: number | null | undefined;
    child.on('exit', (code) => (exited = code));
    const waitFor = async (what: RegExp, ms = 30_000) => {
      for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        if (exited !== undefined) throw new Error(`the process exited (${exited}) while waiting for ${what}:\n${out}`);
        if (what.test(out)) return;
      }
      throw new Error(`timed out waiting for ${what}:\n${out}`);
    };
    const line = (msg: RegExp) => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => msg.test(e.msg));

    await waitFor(/waiting for the metadata store/);
    expect(line(/waiting for the metadata store/)).toMatchObject({ level: 40, msg: expect.stringContaining(`127.0.0.1:${new URL(store.url).port} (DATABASE_URL)`) });
    expect(line(/WORKER_CONCURENCY/)).toMatchObject({ level: 40, msg: expect.stringContaining('did you mean WORKER_CONCURRENCY?') });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(exited).toBeUndefined(); // still waiting, not crashed
    expect(out).not.toMatch(/waiting for ClickHouse/);

    await store.start();
    await waitFor(/waiting for ClickHouse/);
    expect(line(/metadata store .* is up/)).toBeDefined();
    expect(line(/waiting for ClickHouse/).msg).toContain(`127.0.0.1:${clickhouse.port} (CLICKHOUSE_URL)`);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(out).not.toMatch(/Outport is up/);

    clickhouse.up = true;
    await waitFor(/Outport is up/);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    // The first token is printed once and stored nowhere in plain text.
    const token = /API token \(shown once, stored hashed\):\s+(\S+)/.exec(out)?.[1];
    expect(token).toBeDefined();
    expect(fs.readdirSync(dataDir)).toEqual([]);

    // A GraphQL request is logged with its operation name and counted in /metrics.
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'query Ping { __typename }' }),
    });
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
    await waitFor(/"operation":"Ping"/, 5_000);
    expect(line(/^GraphQL query Ping$/)).toMatchObject({ level: 30, operation: 'Ping', operationType: 'query', fields: ['__typename'], team: 1, errors: 0, durationMs: expect.any(Number) });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^outport_api_request_duration_seconds_count\{operation="Ping",type="query",outcome="ok"\} 1$/m);
  }, 60_000);
});
