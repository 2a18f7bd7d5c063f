/**
 * Issue 12.5: revoking an API token ends what it authenticated within seconds: open subscriptions stop, the
 * WebSocket closes, and a new subscription on a socket authenticated before the revocation is refused. The notice
 * travels over Postgres LISTEN/NOTIFY, so every API process closes its sockets, not only the one that revoked.
 */
import { Client } from 'pg';
import { collect, startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
let exportId: string;
let runId: string;

beforeAll(async () => {
  h = await startApiHarness();
  const destinationId = (await h.ok(h.a.token, `mutation { createDestination(input: { name: "d", type: "vault-sink", config: { endpoint: "https://x.example.com", apiKey: "good-key-123" } }) { id } }`)).createDestination.id;
  exportId = (await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
    input: { name: 'e', destinationId, interval: 'HOUR' },
  })).createBatchExport.id;
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
  await h.ok(h.a.token, `mutation($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { createBackfill(input: { batchExportId: $id, startAt: $s, endAt: $e }) { id } }`, {
    id: exportId, s: new Date(end - 3_600_000).toISOString(), e: new Date(end).toISOString(),
  });
  [{ id: runId }] = await h.ds.query(`SELECT id FROM runs WHERE batch_export_id = $1 LIMIT 1`, [exportId]);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const RUN_UPDATED = `subscription($id: ID) { runUpdated(batchExportId: $id) { id status } }`;

async function newToken(): Promise<{ id: string; token: string }> {
  const r = await h.ok(h.a.token, `mutation { createApiToken(input: { name: "short-lived", scopes: [READ] }) { token apiToken { id } } }`);
  return { id: r.createApiToken.apiToken.id, token: r.createApiToken.token };
}

/** What a worker does when a run changes: NOTIFY from another connection. */
async function notifyRunChange(): Promise<void> {
  const c = new Client(h.dbUrl);
  await c.connect();
  try {
    await c.query(`SELECT pg_notify('outport_changes', $1)`, [JSON.stringify({ kind: 'run', teamId: h.a.id, batchExportId: exportId, runId, backfillId: null, status: 'Running',
      recordsCompleted: 0, recordsRead: 0, recordsTotalCount: null, bytesExported: 0, latestError: null, intervalStart: new Date().toISOString(), intervalEnd: new Date().toISOString(), at: new Date().toISOString() })]);
  } finally {
    await c.end();
  }
}

describe('token revocation', () => {
  it('ends an open subscription of the revoked token within seconds, and it receives nothing more', async () => {
    const { id, token } = await newToken();
    const sub = collect(h.ws({ authorization: `Bearer ${token}` }), RUN_UPDATED, { id: exportId });
    await h.listening(1);
    await notifyRunChange();
    await sub.until(() => sub.results.length === 1);

    const revokedAt = Date.now();
    await h.ok(h.a.token, `mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id });
    await sub.until(() => sub.error !== undefined || sub.completed, 5_000);
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
    await h.listening(0);
    await notifyRunChange();
    await new Promise((r) => setTimeout(r, 300));
    expect(sub.results).toHaveLength(1);
  });

  it('refuses a new subscription on a socket authenticated before the token was revoked', async () => {
    const { id, token } = await newToken();
    const client = h.ws({ authorization: `Bearer ${token}` });
    const first = collect(client, RUN_UPDATED, { id: exportId });
    await h.listening(1);
    // The socket is authenticated and live before the revocation.
    await notifyRunChange();
    await first.until(() => first.results.length === 1);
    // Revoked behind the API's back (no notice): the check on subscribe alone must catch it.
    await h.ds.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, [id]);
    const second = collect(client, RUN_UPDATED, { id: exportId });
    await second.until(() => second.error !== undefined || second.completed, 5_000);
    const errors = second.error as { extensions?: { code?: string } }[] | { code?: number };
    if (Array.isArray(errors)) expect(errors[0].extensions?.code).toBe('UNAUTHENTICATED');
    else expect((errors as { code?: number }).code).toBe(4401);
    first.unsubscribe();
  });

  it('closes sockets of a token revoked without a notice (another path into the store) within seconds', async () => {
    const { id, token } = await newToken();
    const sub = collect(h.ws({ authorization: `Bearer ${token}` }), RUN_UPDATED, { id: exportId });
    await h.listening(1);
    await h.ds.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, [id]);
    await sub.until(() => sub.error !== undefined || sub.completed, 8_000);
    expect((sub.error as { code?: number }).code).toBe(4401);
    await h.listening(0);
  });

  it('closes sockets when another API process revokes the token (the notice arrives over LISTEN/NOTIFY)', async () => {
    const { id, token } = await newToken();
    const sub = collect(h.ws({ authorization: `Bearer ${token}` }), RUN_UPDATED, { id: exportId });
    await h.listening(1);
    const started = Date.now();
    // Another API process: it revokes in its own connection and publishes the notice.
    const other = new Client(h.dbUrl);
    await other.connect();
    try {
      await other.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, [id]);
      await other.query(`SELECT pg_notify('outport_changes', $1)`, [JSON.stringify({ kind: 'token-revoked', teamId: h.a.id, tokenId: id, at: new Date().toISOString() })]);
    } finally {
      await other.end();
    }
    await sub.until(() => sub.error !== undefined, 3_000);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((sub.error as { code?: number }).code).toBe(4401);
  });

  it("keeps other tokens' subscriptions open", async () => {
    const { id } = await newToken();
    const sub = collect(h.ws({ authorization: `Bearer ${h.a.readToken}` }), RUN_UPDATED, { id: exportId });
    await h.listening(1);
    await h.ok(h.a.token, `mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id });
    await new Promise((r) => setTimeout(r, 500));
    await notifyRunChange();
    await sub.until(() => sub.results.length === 1);
    expect(sub.error).toBeUndefined();
    sub.unsubscribe();
  });
});
