/**
 * Issue 12.7: malformed or hostile requests to /graphql. Every client mistake gets a typed 4xx JSON error
 * (`{ errors: [{ message, extensions: { code } }] }`) that reveals nothing of the server (no stack, no paths), and
 * a request too expensive to run (aliases, depth, fragments, list sizes multiplied across nesting, connection
 * tests) is refused before it runs, naming the limit, so one request cannot starve the process.
 */
import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
let destinationId: string;

beforeAll(async () => {
  h = await startApiHarness();
  destinationId = (await h.ok(h.a.token, `mutation { createDestination(input: { name: "d", type: "vault-sink", config: { endpoint: "https://x.example.com", apiKey: "good-key-123" } }) { id } }`)).createDestination.id;
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

interface Raw {
  status: number;
  contentType: string;
  text: string;
  body: any;
}

async function raw(body: string, init: { token?: string | null; contentType?: string; method?: string; path?: string; headers?: Record<string, string> } = {}): Promise<Raw> {
  const token = init.token === undefined ? h.a.token : init.token;
  const res = await fetch(h.url + (init.path ?? ''), {
    method: init.method ?? 'POST',
    headers: {
      ...(init.contentType !== undefined ? (init.contentType ? { 'content-type': init.contentType } : {}) : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...init.headers,
    },
    body: init.method === 'GET' ? undefined : body,
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, body: parsed };
}

const gqlBody = (query: string, variables?: Record<string, unknown>, extra: Record<string, unknown> = {}) => JSON.stringify({ query, variables, ...extra });

/** The shape every refusal must have: 4xx, JSON, a code, nothing of the server's internals. */
function expectClientError(r: Raw, code: string | RegExp, messagePattern?: RegExp): void {
  if (process.env.DEBUG_HOSTILE) console.log(r.status, r.text.slice(0, 600));
  expect(r.status).toBeGreaterThanOrEqual(400);
  expect(r.status).toBeLessThan(500);
  expect(r.contentType).toMatch(/json/);
  expect(Array.isArray(r.body?.errors)).toBe(true);
  const first = r.body.errors[0];
  expect(typeof first.message).toBe('string');
  if (typeof code === 'string') expect(first.extensions?.code).toBe(code);
  else expect(first.extensions?.code).toMatch(code);
  if (messagePattern) expect(first.message).toMatch(messagePattern);
  expectNoInternals(r.text);
}

function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\/work\b|node_modules|\bat [\w.<>]+ \(|\n\s+at |stacktrace|INTERNAL_SERVER_ERROR|<html|<pre>/i);
}

describe('malformed HTTP bodies', () => {
  it('truncated JSON: 400 BAD_REQUEST as JSON', async () => {
    expectClientError(await raw('{"query": "{ team { id } '), 'BAD_REQUEST', /JSON/);
  });

  it('truncated JSON without any token: 400 BAD_REQUEST, no stack, no paths', async () => {
    expectClientError(await raw('{"query": "{ te', { token: null }), 'BAD_REQUEST');
  });

  it('JSON that is not an object (a string, a number, null)', async () => {
    for (const body of ['"{ team { id } }"', '42', 'null', 'true']) expectClientError(await raw(body), 'BAD_REQUEST');
  });

  it('an array (batched operations are not supported)', async () => {
    expectClientError(await raw(JSON.stringify([{ query: '{ team { id } }' }, { query: '{ team { id } }' }])), 'BAD_REQUEST');
  });

  it('a wrong content type', async () => {
    expectClientError(await raw('query={team{id}}', { contentType: 'application/x-www-form-urlencoded' }), 'BAD_REQUEST');
    expectClientError(await raw('{ team { id } }', { contentType: 'text/plain' }), 'BAD_REQUEST');
    expectClientError(await raw('{"query":"{ team { id } }"}', { contentType: '' }), 'BAD_REQUEST');
  });

  it('a JSON body over the size limit', async () => {
    expectClientError(await raw(JSON.stringify({ query: '{ team { id } }', variables: { x: 'y'.repeat(3_000_000) } })), /BAD_REQUEST|PAYLOAD_TOO_LARGE/);
  });

  it('an unknown path under /graphql answers 404 as JSON', async () => {
    const r = await raw('{}', { path: '/nope' });
    expect(r.status).toBe(404);
    expect(r.body?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expectNoInternals(r.text);
  });

  it('a body without a query', async () => {
    expectClientError(await raw(JSON.stringify({ variables: {} })), 'BAD_REQUEST');
  });
});

describe('client mistakes inside valid requests', () => {
  it('a NUL character in a string argument is BAD_USER_INPUT', async () => {
    const r = await raw(gqlBody(`mutation($n: String!) { createApiToken(input: { name: $n, scopes: [READ] }) { token } }`, { n: 'bad\u0000name' }));
    expectClientError(r, 'BAD_USER_INPUT', /name/);
    const d = await raw(gqlBody(`mutation($n: String!) { createDestination(input: { name: $n, type: "vault-sink", config: { endpoint: "https://x.example.com", apiKey: "good-key-123" } }) { id } }`, { n: 'a\u0000b' }));
    expectClientError(d, 'BAD_USER_INPUT');
    const cfg = await raw(gqlBody(`mutation($c: JSONObject!) { createDestination(input: { name: "n", type: "vault-sink", config: $c }) { id } }`, { c: { endpoint: 'https://x.example.com', apiKey: 'good\u0000key-123' } }));
    expectClientError(cfg, 'BAD_USER_INPUT');
    const search = await raw(gqlBody(`query($s: String) { logs(search: $s) { edges { cursor } } }`, { s: 'x\u0000' }));
    expectClientError(search, 'BAD_USER_INPUT');
  });

  it('an invalid cursor is BAD_USER_INPUT naming `after`', async () => {
    for (const after of ['not-a-cursor', '%%%', Buffer.from('[1,2,3]').toString('base64url'), 'x'.repeat(10_000)]) {
      expectClientError(await raw(gqlBody(`query($a: String) { batchExports(after: $a) { edges { cursor } } }`, { a: after })), 'BAD_USER_INPUT', /after/);
    }
  });

  it('an invalid id is NOT_FOUND or BAD_USER_INPUT, never an internal error', async () => {
    for (const id of ['not-a-uuid', '', '\u0000', '1'.repeat(5000)]) {
      expectClientError(await raw(gqlBody(`query($id: ID!) { batchExport(id: $id) { id } }`, { id })), /NOT_FOUND|BAD_USER_INPUT/);
    }
  });

  it('a subscription sent over HTTP is BAD_REQUEST, pointing at WebSocket', async () => {
    expectClientError(await raw(gqlBody('subscription { runUpdated { id } }')), 'BAD_REQUEST', /WebSocket/i);
  });

  it('a persisted query with a bad version is BAD_REQUEST', async () => {
    for (const pq of [{ version: 99, sha256Hash: 'abc' }, { sha256Hash: 'abc' }, 'nope']) {
      expectClientError(await raw(JSON.stringify({ extensions: { persistedQuery: pq } })), 'BAD_REQUEST', /persisted query version/);
    }
  });

  it('an unknown persisted query answers PERSISTED_QUERY_NOT_FOUND (the APQ protocol keeps status 200)', async () => {
    for (const pq of [{ version: 1 }, { version: 1, sha256Hash: 'f'.repeat(64) }]) {
      const r = await raw(JSON.stringify({ extensions: { persistedQuery: pq } }));
      expect(r.status).toBeLessThan(500);
      expect(r.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expectNoInternals(r.text);
    }
  });

  it('a huge `first` is BAD_USER_INPUT naming the bound', async () => {
    expectClientError(await raw(gqlBody('{ batchExports(first: 1000000) { edges { cursor } } }')), 'BAD_USER_INPUT', /first/);
  });
});

describe('requests too expensive to run', () => {
  it('5,000 fragments are refused before execution', async () => {
    const fragments = Array.from({ length: 5000 }, (_, i) => `fragment F${i} on Team { id }`).join('\n');
    const spreads = Array.from({ length: 5000 }, (_, i) => `...F${i}`).join(' ');
    expectClientError(await raw(gqlBody(`{ team { ${spreads} } }\n${fragments}`)), /GRAPHQL_PARSE_FAILED|GRAPHQL_VALIDATION_FAILED|BAD_REQUEST/);
  });

  it('10,000 aliases are refused', async () => {
    const q = `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: team { id }`).join(' ')} }`;
    expectClientError(await raw(gqlBody(q)), /GRAPHQL_VALIDATION_FAILED|GRAPHQL_PARSE_FAILED/);
  });

  it('50 aliases of one list query are refused, naming the alias limit', async () => {
    const q = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: batchExports(first: 500) { edges { cursor } }`).join(' ')} }`;
    expectClientError(await raw(gqlBody(q)), 'GRAPHQL_VALIDATION_FAILED', /OUTPORT_GRAPHQL_MAX_(ALIASES|COST)/);
  });

  it('deep nesting is refused, naming the depth limit', async () => {
    // The schema's object graph has no cycles; introspection's ofType chain nests as deep as a client likes.
    const deep = `{ __schema { types { ${'ofType { '.repeat(30)}name${' }'.repeat(30)} } } }`;
    expectClientError(await raw(gqlBody(deep)), 'GRAPHQL_VALIDATION_FAILED', /OUTPORT_GRAPHQL_MAX_DEPTH/);
  });

  it('the standard introspection query still passes', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const r = await raw(gqlBody(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true })));
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });

  it.each(['first', 'last'])('aliased batchExports(%s: 500) { latestRuns, destination } is refused by the cost estimate', async (size) => {
    const q = `{ ${Array.from({ length: 5 }, (_, i) => `a${i}: batchExports(${size}: 500) { edges { node { latestRuns(limit: 100) { id } destination { id config } } } }`).join(' ')} }`;
    const r = await raw(gqlBody(q));
    expectClientError(r, 'GRAPHQL_VALIDATION_FAILED', /OUTPORT_GRAPHQL_MAX_COST/);
    expect(r.body.errors[0].message).toMatch(/cost \d+/);
  });

  it('200 aliased testDestination calls in one request are refused before any connection is made', async () => {
    const q = `mutation($id: ID!) { ${Array.from({ length: 200 }, (_, i) => `t${i}: testDestination(id: $id) { ok }`).join(' ')} }`;
    expectClientError(await raw(gqlBody(q, { id: destinationId })), 'GRAPHQL_VALIDATION_FAILED', /testDestination.*OUTPORT_GRAPHQL_MAX_EXPENSIVE_FIELDS/);
  });

  it('more testDestination calls than OUTPORT_GRAPHQL_MAX_EXPENSIVE_FIELDS, even under the alias limit, are refused', async () => {
    const q = `mutation($id: ID!) { ${Array.from({ length: 4 }, (_, i) => `t${i}: testDestination(id: $id) { ok }`).join(' ')} }`;
    expectClientError(await raw(gqlBody(q, { id: destinationId })), 'GRAPHQL_VALIDATION_FAILED', /testDestination ×4.*OUTPORT_GRAPHQL_MAX_EXPENSIVE_FIELDS/);
  });

  it('a few testDestination calls in one request still run', async () => {
    const r = await raw(gqlBody(`mutation($id: ID!) { a: testDestination(id: $id) { ok } b: testDestination(id: $id) { ok } }`, { id: destinationId }));
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ a: { ok: true }, b: { ok: true } });
  });

  it('ordinary requests pass the limits', async () => {
    const r = await raw(gqlBody(`{ batchExports(first: 50) { edges { node { id latestRuns { id status } destination { id config } } } pageInfo { hasNextPage } } team { id } }`));
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });

  it('/healthz answers quickly while expensive requests are refused', async () => {
    const q = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: batchExports(first: 500) { edges { node { latestRuns(limit: 100) { id } destination { config } } } }`).join(' ')} }`;
    const expensive = Array.from({ length: 5 }, () => raw(gqlBody(q)));
    const started = Date.now();
    const health = await fetch(h.url.replace(/\/graphql$/, '/healthz'));
    const healthMs = Date.now() - started;
    expect(health.status).toBe(200);
    expect(healthMs).toBeLessThan(2000);
    for (const r of await Promise.all(expensive)) expectClientError(r, 'GRAPHQL_VALIDATION_FAILED');
  });
});
