/**
 * `npm start` on a fresh machine: the built server with no DATABASE_URL and no CLICKHOUSE_URL starts an embedded
 * Postgres and ClickHouse, migrates, prints a token, runs the demo export to completion, stops everything on
 * SIGTERM, and on the next boot keeps its data and prints no new token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/store/embedded-postgres';

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');

interface Booted {
  child: ChildProcess;
  out: () => string;
}

function start(dataDir: string, port: number): Promise<Booted> {
  const env: NodeJS.ProcessEnv = { ...process.env, OUTPORT_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', SETTLE_DELAY_SECONDS: '0' };
  for (const k of Object.keys(env)) if (k.startsWith('DATABASE_URL') || k.startsWith('CLICKHOUSE_') || k === 'OUTPORT_SECRET_KEY') delete env[k];
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not up after 120 s:\n${out.slice(-3000)}`)), 120_000);
    const check = setInterval(() => {
      if (/Outport is up/.test(out)) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ child, out: () => out });
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before it was up:\n${out.slice(-3000)}`));
    });
  });
}

const stop = (b: Booted) =>
  new Promise<number | null>((resolve) => {
    b.child.once('exit', (code) => resolve(code));
    b.child.kill('SIGTERM');
  });

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('first boot on embedded defaults (the built server)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-first-boot-'));
  fs.chmodSync(dataDir, 0o755);
  let booted: Booted | undefined;
  afterAll(() => {
    booted?.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, prints a token, runs the demo export, stops cleanly, and keeps its data', async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the suite with \`npm test\`, which builds first`);
    const port = await freePort();
    booted = await start(dataDir, port);
    const token = /API token \(shown once, stored hashed\):\s+(op_[A-Za-z0-9_-]+)/.exec(booted.out())?.[1];
    expect(token).toBeDefined();
    expect((fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toString(8)).toBe('600');
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/`)).headers.get('content-type')).toMatch(/html/);

    const gql = async (query: string) => {
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      return (await res.json()) as { data: any; errors?: unknown[] };
    };
    const backfillDone = async () => {
      for (const deadline = Date.now() + 90_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
        const id = (await gql(`{ batchExports { edges { node { id } } } }`)).data?.batchExports.edges[0]?.node.id;
        const r = id && (await gql(`{ backfills(batchExportId: "${id}") { edges { node { status progress { totalRuns finishedRuns recordsCompleted } } } } }`));
        const b = r?.data?.backfills.edges[0]?.node;
        if (b?.status === 'COMPLETED' || b?.status === 'FAILED') return b;
      }
      throw new Error('demo backfill did not finish');
    };
    const b = await backfillDone();
    expect(b).toMatchObject({ status: 'COMPLETED', progress: { totalRuns: 24, finishedRuns: 24 } });
    expect(b.progress.recordsCompleted).toBeGreaterThan(20_000);
    const files = fs.readdirSync(path.join(dataDir, 'exports'), { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('_manifest.json'))).toHaveLength(24);

    // Only the token's hash is stored.
    const pgPort = Number(/"port":(\d+),"msg":"embedded Postgres started/.exec(booted.out())?.[1]);
    const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim(); // generated, 0600
    expect((fs.statSync(path.join(dataDir, 'postgres.password')).mode & 0o777).toString(8)).toBe('600');
    const db = new Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', password, database: 'outport' });
    await db.connect();
    const { rows } = await db.query(`SELECT token_hash FROM api_tokens`);
    await db.end();
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toContain(token!.slice(3));
    // Nor is the token itself anywhere on disk.
    const engineData = new Set(['postgres', 'clickhouse']); // the store holds only the hash, checked above
    const onDisk = fs.readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && !engineData.has(path.relative(dataDir, f.parentPath).split(path.sep)[0]));
    expect(onDisk.length).toBeGreaterThan(0);
    for (const f of onDisk) expect(fs.readFileSync(path.join(f.parentPath, f.name)).includes(token!)).toBe(false);

    expect(await stop(booted)).toBe(0);
    expect(await portOpen(pgPort)).toBe(false); // the embedded Postgres went down with it

    booted = await start(dataDir, port);
    expect(booted.out()).not.toMatch(/API token/);
    const again = await gql(`{ batchExports { edges { node { name } } } }`);
    expect(again.data.batchExports.edges).toHaveLength(1);
    expect(await stop(booted)).toBe(0);
    booted = undefined;
  }, 240_000);
});
