import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startApiHarness, collect, type ApiHarness } from '../support/api';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const TEAM = '{ team { id name } }';

describe('authentication', () => {
  it('answers UNAUTHENTICATED (HTTP 401) without a token', async () => {
    const r = await h.gql(undefined, TEAM);
    expect(r.status).toBe(401);
    expect(r.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.data?.team).toBeUndefined();
  });

  it('answers UNAUTHENTICATED for an unknown and for a revoked token', async () => {
    const unknown = await h.gql('op_' + 'x'.repeat(40), TEAM);
    expect(unknown.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const revoked = await h.gql(h.a.revokedToken, TEAM);
    expect(revoked.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(revoked.errors?.[0].message).toMatch(/revoked/);
  });

  it('accepts a valid token and scopes the context to its team', async () => {
    const r = await h.ok(h.a.token, TEAM);
    expect(r.team).toEqual({ id: String(h.a.id), name: 'Team A' });
    const rb = await h.ok(h.b.readToken, TEAM);
    expect(rb.team).toEqual({ id: String(h.b.id), name: 'Team B' });
  });

  it('records last_used_at, at most once a minute', async () => {
    await h.ds.query(`UPDATE api_tokens SET last_used_at = NULL`);
    await h.ok(h.a.readToken, TEAM);
    const [first] = await h.ds.query(`SELECT last_used_at FROM api_tokens WHERE team_id = $1 AND scopes = '{read}'`, [h.a.id]);
    expect(first.last_used_at).toBeInstanceOf(Date);
    await h.ok(h.a.readToken, TEAM);
    const [second] = await h.ds.query(`SELECT last_used_at FROM api_tokens WHERE team_id = $1 AND scopes = '{read}'`, [h.a.id]);
    expect(second.last_used_at.getTime()).toBe(first.last_used_at.getTime());
  });

  it('refuses mutations from a read-only token with FORBIDDEN and changes nothing', async () => {
    const r = await h.gql(h.a.readToken, `mutation { updateTeam(input: { maxConcurrentBackfills: 7 }) { maxConcurrentBackfills } }`);
    expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(r.errors?.[0].message).toMatch(/write/);
    const [team] = await h.ds.query(`SELECT max_concurrent_backfills FROM teams WHERE id = $1`, [h.a.id]);
    expect(team.max_concurrent_backfills).toBe(2);
  });

  it('a read-only token may still query', async () => {
    const r = await h.ok(h.a.readToken, '{ apiTokens { totalCount edges { node { name scopes revokedAt } } } }');
    expect(r.apiTokens.edges).toHaveLength(3);
    expect(r.apiTokens.totalCount).toBe(3);
  });

  it('refuses a WebSocket subscription without a valid token with UNAUTHENTICATED', async () => {
    for (const params of [undefined, { authorization: 'Bearer op_nope' }, { authorization: `Bearer ${h.a.revokedToken}` }]) {
      const sub = collect(h.ws(params), 'subscription { runUpdated { id } }');
      await sub.until(() => sub.error !== undefined);
      const errors = sub.error as { message: string; extensions?: { code?: string } }[];
      expect(errors[0].extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('accepts a WebSocket authenticated by the upgrade request\'s Authorization header', async () => {
    const token = h.a.readToken;
    class WithHeader extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { authorization: `Bearer ${token}` } });
      }
    }
    const client = createClient({ url: h.wsUrl, webSocketImpl: WithHeader, retryAttempts: 0 });
    try {
      const sub = collect(client, 'subscription { runUpdated { id } }');
      await h.listening(1);
      expect(sub.error).toBeUndefined();
      sub.unsubscribe();
      await h.listening(0);
    } finally {
      await client.dispose();
    }
  });
});

describe('API tokens', () => {
  it('creates a token shown once, stores only its hash, and the token works until revoked', async () => {
    const created = await h.ok(h.a.token, `mutation { createApiToken(input: { name: "ci", scopes: [READ] }) { token apiToken { id name scopes displayPrefix } } }`);
    const { token, apiToken } = created.createApiToken;
    expect(token).toMatch(/^op_/);
    expect(apiToken.scopes).toEqual(['READ']);
    expect(token.startsWith(apiToken.displayPrefix.replace('…', ''))).toBe(true);
    const rows = await h.ds.query(`SELECT token_hash FROM api_tokens WHERE id = $1`, [apiToken.id]);
    expect(rows[0].token_hash).not.toContain(token);
    expect((await h.ok(token, TEAM)).team.id).toBe(String(h.a.id));
    const listed = await h.ok(h.a.readToken, '{ apiTokens { edges { node { id } } } }');
    expect(listed.apiTokens.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(apiToken.id);

    const revoked = await h.ok(h.a.token, `mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id });
    expect(revoked.revokeApiToken.revokedAt).toBeTruthy();
    expect((await h.gql(token, TEAM)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('write implies read; an empty scope list or name is BAD_USER_INPUT', async () => {
    const created = await h.ok(h.a.token, `mutation { createApiToken(input: { name: "deploy", scopes: [WRITE] }) { apiToken { scopes } } }`);
    expect(created.createApiToken.apiToken.scopes).toEqual(['READ', 'WRITE']);
    const empty = await h.gql(h.a.token, `mutation { createApiToken(input: { name: "x", scopes: [] }) { token } }`);
    expect(empty.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.scopes' });
    const noName = await h.gql(h.a.token, `mutation { createApiToken(input: { name: "  ", scopes: [READ] }) { token } }`);
    expect(noName.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
  });
});

describe('team', () => {
  it('updates webhookUrl and maxConcurrentBackfills, validating both', async () => {
    const r = await h.ok(h.a.token, `mutation { updateTeam(input: { webhookUrl: "https://hooks.example.com/x?y=1", maxConcurrentBackfills: 3 }) { webhookUrl maxConcurrentBackfills } }`);
    expect(r.updateTeam).toEqual({ webhookUrl: 'https://hooks.example.com/x?y=1', maxConcurrentBackfills: 3 });
    const bad = await h.gql(h.a.token, `mutation { updateTeam(input: { webhookUrl: "ftp://x" }) { webhookUrl } }`);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.webhookUrl' });
    const zero = await h.gql(h.a.token, `mutation { updateTeam(input: { maxConcurrentBackfills: 0 }) { webhookUrl } }`);
    expect(zero.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.maxConcurrentBackfills' });
    const cleared = await h.ok(h.a.token, `mutation { updateTeam(input: { webhookUrl: null }) { webhookUrl maxConcurrentBackfills } }`);
    expect(cleared.updateTeam).toEqual({ webhookUrl: null, maxConcurrentBackfills: 3 });
  });
});

describe('health and errors', () => {
  it('serves /healthz and /readyz', async () => {
    const base = h.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('never sends stack traces; unknown fields are a client error', async () => {
    const r = await h.gql(h.a.token, '{ nope }');
    expect(r.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(r)).not.toMatch(/stacktrace|at .*\.ts:\d+/);
    const missing = await h.gql(h.a.token, '{ batchExport(id: "00000000-0000-0000-0000-000000000000") { id } }');
    expect(missing.errors?.[0].extensions).toEqual({ code: 'NOT_FOUND' });
    const malformed = await h.gql(h.a.token, `{ batchExport(id: "1'; DROP TABLE runs; --") { id } }`);
    expect(malformed.errors?.[0].extensions).toEqual({ code: 'NOT_FOUND' });
  });
});
