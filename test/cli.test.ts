/**
 * The operator CLI, run as a user runs it (`node dist/src/cli.js`), against a real metadata store; the tokens it
 * prints are then used against the real API.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startApiHarness, type ApiHarness } from './support/api';

const CLI = path.resolve(__dirname, '..', 'dist', 'src', 'cli.js');
const run = promisify(execFile);

describe('outport CLI', () => {
  let api: ApiHarness;
  const cli = (...args: string[]) =>
    run(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: api.dbUrl, LOG_LEVEL: 'silent' } }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  const tokenIn = (out: string) => /\b(op_[A-Za-z0-9_-]+)/.exec(out)?.[1];

  beforeAll(async () => {
    api = await startApiHarness();
  });
  afterAll(() => api.stop());

  it('creates a team whose printed token works against the API, and lists it', async () => {
    const created = await cli('teams', 'create', 'Analytics', 'EU');
    expect(created.code).toBe(0);
    const token = tokenIn(created.stdout)!;
    expect(token).toBeDefined();
    const me = await api.ok(token, '{ team { id name } }');
    expect(me.team.name).toBe('Analytics EU');
    const list = await cli('teams', 'list');
    expect(list.stdout).toContain('Analytics EU');
  });

  it('recovers a lost token: a new read-only token for an existing team, then revokes it', async () => {
    const created = await cli('tokens', 'create', '--team', String(api.a.id), '--name', 'recovered', '--read-only');
    expect(created.code).toBe(0);
    const token = tokenIn(created.stdout)!;
    expect((await api.ok(token, '{ team { id } }')).team.id).toBe(String(api.a.id));
    const write = await api.gql(token, `mutation { updateTeam(input: { maxConcurrentBackfills: 2 }) { id } }`);
    expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const list = await cli('tokens', 'list', '--team', String(api.a.id));
    const line = list.stdout.split('\n').find((l) => l.includes('recovered'))!;
    const id = line.split(/\s+/)[0];
    expect((await cli('tokens', 'revoke', id)).code).toBe(0);
    const after = await api.gql(token, '{ team { id } }');
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(list.stdout).not.toContain(token);
  });

  it('shows the state of runs and queues', async () => {
    const status = await cli('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/Runs by status:/);
    expect(status.stdout).toMatch(/Jobs: \d+ queued/);
  });

  it('migrates an up-to-date store without error', async () => {
    const r = await cli('migrate');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('refuses mistakes with exit code 2 and a message naming the fix', async () => {
    const unknown = await cli('teams', 'delete');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "teams delete"/);
    const noTeam = await cli('tokens', 'create');
    expect(noTeam.code).toBe(2);
    expect(noTeam.stderr).toMatch(/--team <id> is required/);
    const missing = await cli('tokens', 'create', '--team', '999999');
    expect(missing.stderr).toMatch(/No team 999999/);
  });
});
