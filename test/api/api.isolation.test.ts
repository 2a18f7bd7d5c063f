/** Team B's token on team A's objects: every query, mutation and subscription answers NOT_FOUND and changes nothing. */
import { collect, startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
const A: Record<string, string> = {};
const B: Record<string, string> = {};
const HOUR = 3_600_000;

beforeAll(async () => {
  h = await startApiHarness();
  A.destination = (await h.ok(h.a.token, `mutation { createDestination(input: { name: "a", type: "vault-sink", config: { endpoint: "https://a.example.com", apiKey: "good-key-123" } }) { id } }`)).createDestination.id;
  A.export = (await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
    input: { name: 'a export', destinationId: A.destination, interval: 'HOUR' },
  })).createBatchExport.id;
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  A.backfill = (await h.ok(h.a.token, `mutation($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { createBackfill(input: { batchExportId: $id, startAt: $s, endAt: $e }) { id } }`, {
    id: A.export, s: new Date(end - 2 * HOUR).toISOString(), e: new Date(end).toISOString(),
  })).createBackfill.id;
  [{ id: A.run }] = await h.ds.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start LIMIT 1`, [A.backfill]);
  await h.ds.query(`UPDATE runs SET status = 'Failed' WHERE id = $1`, [A.run]);
  [{ id: A.token }] = await h.ds.query(`SELECT id FROM api_tokens WHERE team_id = $1 LIMIT 1`, [h.a.id]);
  B.destination = (await h.ok(h.b.token, `mutation { createDestination(input: { name: "b", type: "vault-sink", config: { endpoint: "https://b.example.com", apiKey: "good-key-123" } }) { id } }`)).createDestination.id;
  B.export = (await h.ok(h.b.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
    input: { name: 'b export', destinationId: B.destination, interval: 'HOUR' },
  })).createBatchExport.id;
  await h.ds.query(`INSERT INTO log_entries (team_id, batch_export_id, run_id, level, message) VALUES ($1, $2, $3, 'INFO', 'secret-ish log line')`, [h.a.id, A.export, A.run]);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

async function snapshot() {
  return {
    exports: await h.ds.query(`SELECT id, name, paused, deleted_at, updated_at FROM batch_exports ORDER BY id`),
    runs: await h.ds.query(`SELECT id, status, cancel_requested_at, attempt FROM runs ORDER BY id`),
    backfills: await h.ds.query(`SELECT id, status FROM backfills ORDER BY id`),
    destinations: await h.ds.query(`SELECT id, name, config, encrypted_secrets, deleted_at FROM destinations ORDER BY id`),
    tokens: await h.ds.query(`SELECT id, revoked_at FROM api_tokens WHERE team_id = $1 ORDER BY id`, [h.a.id]),
    teamA: await h.ds.query(`SELECT * FROM teams WHERE id = $1`, [h.a.id]),
  };
}

const now = () => new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR).toISOString();
const before = () => new Date(Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR).toISOString();

const OPERATIONS: [string, string, () => Record<string, unknown>][] = [
  ['batchExport', `query($id: ID!) { batchExport(id: $id) { id } }`, () => ({ id: A.export })],
  ['runs', `query($id: ID!) { runs(batchExportId: $id) { edges { cursor } } }`, () => ({ id: A.export })],
  ['run', `query($id: ID!) { run(id: $id) { id } }`, () => ({ id: A.run })],
  ['backfills', `query($id: ID!) { backfills(batchExportId: $id) { edges { node { id } } } }`, () => ({ id: A.export })],
  ['backfill', `query($id: ID!) { backfill(id: $id) { id } }`, () => ({ id: A.backfill })],
  ['estimateBackfill', `query($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { estimateBackfill(batchExportId: $id, startAt: $s, endAt: $e) { runs } }`, () => ({ id: A.export, s: before(), e: now() })],
  ['logs (export)', `query($id: ID) { logs(batchExportId: $id) { edges { cursor } } }`, () => ({ id: A.export })],
  ['logs (run)', `query($id: ID) { logs(runId: $id) { edges { cursor } } }`, () => ({ id: A.run })],
  ['destination', `query($id: ID!) { destination(id: $id) { id } }`, () => ({ id: A.destination })],
  ['updateBatchExport', `mutation($id: ID!) { updateBatchExport(input: { id: $id, name: "pwned" }) { id } }`, () => ({ id: A.export })],
  ['pauseBatchExport', `mutation($id: ID!) { pauseBatchExport(id: $id) { id } }`, () => ({ id: A.export })],
  ['unpauseBatchExport', `mutation($id: ID!) { unpauseBatchExport(id: $id, backfillPausedGap: true) { id } }`, () => ({ id: A.export })],
  ['deleteBatchExport', `mutation($id: ID!) { deleteBatchExport(id: $id) { id } }`, () => ({ id: A.export })],
  ['createBackfill', `mutation($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { createBackfill(input: { batchExportId: $id, startAt: $s, endAt: $e }) { id } }`, () => ({ id: A.export, s: before(), e: now() })],
  ['cancelBackfill', `mutation($id: ID!) { cancelBackfill(id: $id) { id } }`, () => ({ id: A.backfill })],
  ['retryRun', `mutation($id: ID!) { retryRun(id: $id) { id } }`, () => ({ id: A.run })],
  ['cancelRun', `mutation($id: ID!) { cancelRun(id: $id) { id } }`, () => ({ id: A.run })],
  ['createBatchExport (A destination)', `mutation($id: ID!) { createBatchExport(input: { name: "x", destinationId: $id, interval: HOUR }) { id } }`, () => ({ id: A.destination })],
  ['updateBatchExport (B export onto A destination)', `mutation($id: ID!, $d: ID!) { updateBatchExport(input: { id: $id, destinationId: $d }) { id } }`, () => ({ id: B.export, d: A.destination })],
  ['updateDestination', `mutation($id: ID!) { updateDestination(input: { id: $id, name: "pwned", config: { endpoint: "https://evil.example.com" } }) { id } }`, () => ({ id: A.destination })],
  ['deleteDestination', `mutation($id: ID!) { deleteDestination(id: $id) { id } }`, () => ({ id: A.destination })],
  ['testDestination', `mutation($id: ID!) { testDestination(id: $id) { ok } }`, () => ({ id: A.destination })],
  ['revokeApiToken', `mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, () => ({ id: A.token })],
];

describe('cross-team isolation', () => {
  it.each(OPERATIONS)('%s with team B\'s token on team A\'s id answers NOT_FOUND and changes nothing', async (_name, query, vars) => {
    const state = await snapshot();
    const r = await h.gql(h.b.token, query, vars());
    expect(r.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    // Lookups by id are nullable: their field answers null; everything else answers no data at all.
    expect(Object.values(r.data ?? {}).every((v) => v === null)).toBe(true);
    expect(JSON.stringify(r)).not.toContain('secret-ish');
    expect(await snapshot()).toEqual(state);
    // Positive control: team A's own token reaches the object (mutations would change it, so only queries).
    if (query.startsWith('query')) expect((await h.gql(h.a.token, query, vars())).errors).toBeUndefined();
  });

  it('lists show only the caller\'s own objects', async () => {
    const r = await h.ok(h.b.token, `{ batchExports { edges { node { id } } } destinations { edges { node { id } } } apiTokens { edges { node { id } } } team { id } }`);
    r.destinations = r.destinations.edges.map((e: { node: unknown }) => e.node);
    r.apiTokens = r.apiTokens.edges.map((e: { node: unknown }) => e.node);
    expect(r.batchExports.edges).toEqual([{ node: { id: B.export } }]);
    expect(r.destinations).toEqual([{ id: B.destination }]);
    expect(r.apiTokens.map((t: { id: string }) => t.id)).not.toContain(A.token);
    expect(r.apiTokens).toHaveLength(3);
    expect(r.team.id).toBe(String(h.b.id));
  });

  it('team-level mutations only touch the caller\'s team', async () => {
    const state = await snapshot();
    await h.ok(h.b.token, `mutation { updateTeam(input: { maxConcurrentBackfills: 9, webhookUrl: "https://b.example.com" }) { id } }`);
    await h.ok(h.b.token, `mutation { createApiToken(input: { name: "b2", scopes: [READ] }) { token } }`);
    expect(await snapshot()).toEqual(state);
  });

  it.each([
    ['runUpdated', `subscription($id: ID) { runUpdated(batchExportId: $id) { id } }`, () => ({ id: A.export })],
    ['backfillProgress', `subscription($id: ID!) { backfillProgress(backfillId: $id) { id } }`, () => ({ id: A.backfill })],
  ])('subscription %s on team A\'s id answers NOT_FOUND', async (_name, query, vars) => {
    const sub = collect(h.ws({ authorization: `Bearer ${h.b.token}` }), query, vars());
    await sub.until(() => sub.results.length > 0 || sub.error !== undefined);
    const errors = sub.results[0]?.errors ?? (sub.error as { extensions?: { code?: string } }[]);
    expect(errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});
