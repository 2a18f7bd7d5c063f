/**
 * Configuration is checked before anything starts: each bad variable is named with its fix, the process exits with
 * code 2 before an embedded engine starts, and variables that look like misspelled settings are warned about.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, suspiciousVariables } from '../src/config';

const MAIN = path.resolve(__dirname, '..', 'dist', 'src', 'main.js');
const KEY = 'a'.repeat(64);

/** Each bad value, the variable the message must name, and words of the fix it must give. */
const BAD: { env: Record<string, string>; variable: string; fix: RegExp }[] = [
  { env: { OUTPORT_SECRET_KEY: 'not-a-key' }, variable: 'OUTPORT_SECRET_KEY', fix: /openssl rand -hex 32/ },
  { env: { OUTPORT_SECRET_KEY: 'ab'.repeat(16) }, variable: 'OUTPORT_SECRET_KEY', fix: /64 hex characters/ },
  { env: { SCHEDULER_TICK: 'every 10 seconds' }, variable: 'SCHEDULER_TICK', fix: /cron expression.*\*\/10 \* \* \* \* \*/ },
  { env: { SCHEDULER_TICK: '61 * * * * *' }, variable: 'SCHEDULER_TICK', fix: /cron expression/ },
  { env: { CLICKHOUSE_URL: 'localhost:8123' }, variable: 'CLICKHOUSE_URL', fix: /http:\/\/localhost:8123/ },
  { env: { CLICKHOUSE_URL: 'clickhouse' }, variable: 'CLICKHOUSE_URL', fix: /scheme and host/ },
  { env: { DATABASE_URL: 'localhost:5432/outport', OUTPORT_SECRET_KEY: KEY }, variable: 'DATABASE_URL', fix: /postgres:\/\/user:password@localhost:5432\/outport/ },
  { env: { DATABASE_URL: 'mysql://u:p@db/outport', OUTPORT_SECRET_KEY: KEY }, variable: 'DATABASE_URL', fix: /postgres URL/ },
  { env: { DATABASE_URL: 'postgres://u:p@db:5432/outport' }, variable: 'OUTPORT_SECRET_KEY', fix: /required with DATABASE_URL/ },
  { env: { OUTPORT_DESTINATION_NETWORKS: 'block:10.0.0.0/8' }, variable: 'OUTPORT_DESTINATION_NETWORKS', fix: /deny:<cidr\|private>/ },
  { env: { WORKER_CONCURRENCY: 'two' }, variable: 'WORKER_CONCURRENCY', fix: /number/ },
  { env: { LOG_FORMAT: 'colour' }, variable: 'LOG_FORMAT', fix: /pretty/ },
  { env: { RETRY_INITIAL_SECONDS: '10', RETRY_MAX_SECONDS: '5' }, variable: 'RETRY_MAX_SECONDS', fix: /RETRY_INITIAL_SECONDS/ },
  { env: { HEARTBEAT_SECONDS: '30', HEARTBEAT_TIMEOUT_SECONDS: '20' }, variable: 'HEARTBEAT_TIMEOUT_SECONDS', fix: /HEARTBEAT_SECONDS/ },
];

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env, { forServer: true });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`configuration ${JSON.stringify(env)} was accepted`);
}

describe('loadConfig', () => {
  it.each(BAD)('refuses $env naming $variable and the fix', ({ env, variable, fix }) => {
    const message = configError(env);
    const line = message.split('\n').find((l) => l.trim().startsWith(`${variable}:`));
    expect(line).toBeDefined();
    expect(line).toMatch(fix);
  });

  it('names every bad variable at once, one line each', () => {
    const message = configError({ OUTPORT_SECRET_KEY: 'x', SCHEDULER_TICK: 'often', CLICKHOUSE_URL: 'ch:8123' });
    expect(message.split('\n').filter((l) => /^  [A-Z_]+: /.test(l)).map((l) => l.trim().split(':')[0]).sort()).toEqual([
      'CLICKHOUSE_URL',
      'OUTPORT_SECRET_KEY',
      'SCHEDULER_TICK',
    ]);
  });

  it('does not echo a password given in a bad URL', () => {
    expect(configError({ DATABASE_URL: 'mysql://admin:hunter2@db/outport', OUTPORT_SECRET_KEY: KEY })).not.toContain('hunter2');
  });

  it('accepts good values, and the CLI does not need the secret key', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5432/outport', OUTPORT_SECRET_KEY: KEY, CLICKHOUSE_URL: 'https://ch.example.com:8443', SCHEDULER_TICK: '*/5 * * * *' }, { forServer: true })).toMatchObject({
      SCHEDULER_TICK: '*/5 * * * *',
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/outport' }).DATABASE_URL).toBe('postgres://u:p@db:5432/outport');
  });
});

describe('suspiciousVariables', () => {
  it('reports misspelled settings with the one meant, and unknown OUTPORT_/CLICKHOUSE_ variables', () => {
    const found = suspiciousVariables({
      OUTPORT_SECRETKEY: 'x', // 1 edit
      WORKER_CONCURENCY: '4', // 1 edit
      CLICKHOUSE_PASWORD: 'x', // 1 edit
      DATABSE_URL: 'x', // 2 edits (transposition)
      PROT: '1', // PORT, 2 edits: a short name counts only 1
      PORTS: '1', // PORT, 1 edit
      OUTPORT_MYSTERY: '1',
      CLICKHOUSE_HOST: 'ch',
      // not ours
      HOME: '/root',
      PATH: '/bin',
      HOSTNAME: 'box',
      NODE_ENV: 'production',
      OUTPORT_TEST_PG_URL: 'x',
      // ours
      DATABASE_URL: 'postgres://db/x',
      PORT: '8000',
    });
    expect(Object.fromEntries(found.map((f) => [f.name, f.meant ?? null]))).toEqual({
      CLICKHOUSE_HOST: null,
      CLICKHOUSE_PASWORD: 'CLICKHOUSE_PASSWORD',
      DATABSE_URL: 'DATABASE_URL',
      OUTPORT_MYSTERY: null,
      OUTPORT_SECRETKEY: 'OUTPORT_SECRET_KEY',
      PORTS: 'PORT',
      WORKER_CONCURENCY: 'WORKER_CONCURRENCY',
    });
  });
});

describe('outport start with a bad configuration', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-config-'));
    dirs.push(dataDir);
    const started = Date.now();
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, OUTPORT_DATA_DIR: dataDir, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve) =>
      child.on('exit', (code) => {
        // Nothing was started: no embedded Postgres or ClickHouse data was created.
        expect(fs.readdirSync(dataDir)).toEqual([]);
        resolve({ code, stderr, ms: Date.now() - started });
      }),
    );
  }

  it.each([
    [{ OUTPORT_SECRET_KEY: 'short' }, 'OUTPORT_SECRET_KEY'],
    [{ SCHEDULER_TICK: 'hourly' }, 'SCHEDULER_TICK'],
    [{ CLICKHOUSE_URL: 'localhost:8123' }, 'CLICKHOUSE_URL'],
    [{ DATABASE_URL: 'localhost:5432/outport', OUTPORT_SECRET_KEY: KEY }, 'DATABASE_URL'],
  ])('%j exits with code 2 naming %s, before any engine starts, without a stack trace', async (env, variable) => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the suite with \`npm test\`, which builds first`);
    const { code, stderr, ms } = await start(env);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^  ${variable}: `, 'm'));
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(ms).toBeLessThan(15_000);
  }, 30_000);
});
