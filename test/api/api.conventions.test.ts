/**
 * Issue 15.6, the API's conventions, checked through HTTP as a client meets them:
 * - a lookup by id of a missing or another team's object answers null for that field and one NOT_FOUND error
 *   on its path, the rest of the response intact, and the two cases read the same;
 * - every list is a Relay connection (edges { cursor node }, complete pageInfo, totalCount, first/after);
 * - every create/update mutation takes one `input` argument;
 * - closed sets are enums;
 * - each bad field is its own BAD_USER_INPUT error with `extensions.field`, unknown config keys included.
 */
import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
const A: Record<string, string> = {};
const B: Record<string, string> = {};
const HOUR = 3_600_000;
const MISSING = '00000000-0000-4000-8000-000000000000';

const CREATE_DESTINATION = `mutation($input: CreateDestinationInput!) { createDestination(input: $input) { id name config } }`;
const vaultInput = (name: string, config: Record<string, unknown> = {}) => ({
  input: { name, type: 'vault-sink', config: { endpoint: 'https://a.example.com', apiKey: 'good-key-123', ...config } },
});

async function seed(team: ApiHarness['a'], into: Record<string, string>) {
  into.destination = (await h.ok(team.token, CREATE_DESTINATION, vaultInput('d'))).createDestination.id;
  into.export = (await h.ok(team.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
    input: { name: 'e', destinationId: into.destination, interval: 'HOUR' },
  })).createBatchExport.id;
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  into.backfill = (await h.ok(team.token, `mutation($input: CreateBackfillInput!) { createBackfill(input: $input) { id } }`, {
    input: { batchExportId: into.export, startAt: new Date(end - 3 * HOUR).toISOString(), endAt: new Date(end).toISOString() },
  })).createBackfill.id;
  [{ id: into.run }] = await h.ds.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start LIMIT 1`, [into.backfill]);
}

beforeAll(async () => {
  h = await startApiHarness();
  await seed(h.a, A);
  await seed(h.b, B);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const introspect = async () =>
  (await h.ok(h.a.token, `{ __schema {
    queryType { fields { name args { name type { kind name ofType { kind name ofType { kind name } } } } type { kind name ofType { kind name ofType { kind name } } } } }
    mutationType { fields { name args { name type { kind name ofType { kind name } } } } }
    types { name kind fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } inputFields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } }
  } }`)).__schema;

type TypeRef = { kind: string; name: string | null; ofType?: TypeRef | null };
const named = (t: TypeRef): TypeRef => (t.ofType ? named(t.ofType) : t);
const isList = (t: TypeRef): boolean => t.kind === 'LIST' || (t.kind === 'NON_NULL' && !!t.ofType && isList(t.ofType));

describe('lookups by id', () => {
  const LOOKUPS = ['batchExport', 'destination', 'run', 'backfill'] as const;

  it.each(LOOKUPS)("%s of a missing id and of another team's id: null and one NOT_FOUND each on its own path, the rest intact", async (field) => {
    const r = await h.gql(h.a.token, `query($own: ID!, $other: ID!, $missing: ID!) {
      own: ${field}(id: $own) { id } other: ${field}(id: $other) { id } missing: ${field}(id: $missing) { id } team { id } }`, {
      own: A[field === 'batchExport' ? 'export' : field],
      other: B[field === 'batchExport' ? 'export' : field],
      missing: MISSING,
    });
    expect(r.status).toBe(200);
    expect(r.data?.own?.id).toBe(A[field === 'batchExport' ? 'export' : field]);
    expect(r.data?.team?.id).toBe(String(h.a.id));
    expect(r.data?.other).toBeNull();
    expect(r.data?.missing).toBeNull();
    expect(r.errors).toHaveLength(2);
    const byPath = new Map(r.errors!.map((e) => [JSON.stringify(e.path), e]));
    const other = byPath.get('["other"]');
    const missing = byPath.get('["missing"]');
    expect(other?.extensions?.code).toBe('NOT_FOUND');
    expect(missing?.extensions?.code).toBe('NOT_FOUND');
    // Indistinguishable: the same message but for the id, and the same extensions.
    expect(other!.message.replace(B[field === 'batchExport' ? 'export' : field], 'ID')).toBe(missing!.message.replace(MISSING, 'ID'));
    expect(other!.extensions).toEqual(missing!.extensions);
  });

  it('every Query field taking an id answers a nullable type', async () => {
    const schema = await introspect();
    const byId = schema.queryType.fields.filter((f: { args: { name: string }[] }) => f.args.length === 1 && f.args[0].name === 'id');
    expect(byId.map((f: { name: string }) => f.name).sort()).toEqual(['backfill', 'batchExport', 'destination', 'run']);
    for (const f of byId) expect([f.name, f.type.kind]).toEqual([f.name, 'OBJECT']);
  });
});

describe('connections', () => {
  it('no Query field answers a plain list; every connection has edges { cursor node }, a complete pageInfo and first/after', async () => {
    const schema = await introspect();
    const lists = schema.queryType.fields.filter((f: { type: TypeRef }) => isList(f.type)).map((f: { name: string }) => f.name);
    expect(lists).toEqual([]);
    const types = new Map<string, { fields: { name: string; type: TypeRef }[] }>(schema.types.map((t: { name: string }) => [t.name, t]));
    const connections = schema.queryType.fields.filter((f: { type: TypeRef }) => /Connection$/.test(named(f.type).name ?? ''));
    expect(connections.map((f: { name: string }) => f.name).sort()).toEqual(
      ['apiTokens', 'backfills', 'batchExports', 'destinationTypes', 'destinations', 'logs', 'notificationChannels', 'notificationDeliveries', 'runs'],
    );
    for (const q of connections) {
      const argNames = q.args.map((a: { name: string }) => a.name);
      expect([q.name, argNames.includes('first'), argNames.includes('after')]).toEqual([q.name, true, true]);
      const conn = types.get(named(q.type).name!)!;
      const edge = types.get(named(conn.fields.find((f) => f.name === 'edges')!.type).name!)!;
      expect([q.name, edge.fields.map((f) => f.name).sort()]).toEqual([q.name, ['cursor', 'node']]);
      expect([q.name, named(conn.fields.find((f) => f.name === 'pageInfo')!.type).name]).toEqual([q.name, 'PageInfo']);
    }
    expect(types.get('PageInfo')!.fields.map((f) => f.name).sort()).toEqual(['endCursor', 'hasNextPage', 'hasPreviousPage', 'startCursor']);
    // Backward too, everywhere alike.
    for (const q of connections) {
      const argNames = q.args.map((a: { name: string }) => a.name);
      expect([q.name, argNames.includes('last'), argNames.includes('before')]).toEqual([q.name, true, true]);
    }
  });

  it('destinations page forward with first/after, with totalCount and both cursors', async () => {
    for (const n of ['p1', 'p2']) await h.ok(h.a.token, CREATE_DESTINATION, vaultInput(n));
    const page = (after?: string) =>
      h.ok(h.a.token, `query($after: String) { destinations(first: 2, after: $after) {
        totalCount edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`, { after });
    const first = (await page()).destinations;
    expect(first.totalCount).toBe(3);
    expect(first.edges).toHaveLength(2);
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0].cursor, endCursor: first.edges[1].cursor });
    const second = (await page(first.pageInfo.endCursor)).destinations;
    expect(second.edges).toHaveLength(1);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true, startCursor: second.edges[0].cursor });
    const ids = [...first.edges, ...second.edges].map((e: { node: { id: string } }) => e.node.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids).not.toContain(B.destination);
  });

  it.each([
    ['runs (keyset in SQL)', `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
      page: runs(batchExportId: $id, first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`],
    ['apiTokens (a list read whole)', `query($first: Int, $after: String, $last: Int, $before: String) {
      page: apiTokens(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`],
  ])('%s pages backward with last/before to the same items, in the same order', async (_name, query) => {
    const page = async (vars: Record<string, unknown>) => (await h.ok(h.a.token, query, { id: A.export, ...vars })).page;
    const all = (await page({ first: 500 })).edges.map((e: { node: { id: string } }) => e.node.id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const tail = await page({ last: 2 });
    expect(tail.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(all.slice(-2));
    expect(tail.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: tail.edges[0].cursor, endCursor: tail.edges[1].cursor });
    const before = await page({ last: 500, before: tail.pageInfo.startCursor });
    expect(before.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(all.slice(0, -2));
    expect(before.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const mixed = await h.gql(h.a.token, query, { id: A.export, first: 1, last: 1 });
    expect(mixed.status).toBe(400);
    expect(mixed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'last' });
  });

  it.each([
    ['backfills', `query($id: ID!) { backfills(batchExportId: $id, first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`],
    ['runs', `query($id: ID!) { runs(batchExportId: $id, first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`],
    ['apiTokens', `query { apiTokens(first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`],
    ['batchExports', `query { batchExports(first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`],
    ['notificationChannels', `query { notificationChannels(first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`],
    ['destinationTypes', `query { destinationTypes(first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`],
  ])('%s answers a connection with totalCount', async (name, query) => {
    const data = (await h.ok(h.a.token, query, { id: A.export }))[name];
    expect(typeof data.totalCount).toBe('number');
    expect(data.edges.length).toBe(Math.min(1, data.totalCount));
    expect(data.pageInfo.hasNextPage).toBe(data.totalCount > 1);
    expect(data.pageInfo.hasPreviousPage).toBe(false);
  });
});

describe('mutations', () => {
  it('every create and update mutation takes exactly one argument, input, of a non-null input object', async () => {
    const schema = await introspect();
    const writes = schema.mutationType.fields.filter((f: { name: string }) => /^(create|update)[A-Z]/.test(f.name));
    expect(writes.length).toBeGreaterThanOrEqual(8);
    for (const f of writes) {
      expect([f.name, f.args.map((a: { name: string }) => a.name)]).toEqual([f.name, ['input']]);
      expect([f.name, f.args[0].type.kind, f.args[0].type.ofType?.kind]).toEqual([f.name, 'NON_NULL', 'INPUT_OBJECT']);
    }
  });

  it('updateDestination takes its id and changes in input', async () => {
    const r = await h.ok(h.a.token, `mutation($input: UpdateDestinationInput!) { updateDestination(input: $input) { id name } }`, {
      input: { id: A.destination, name: 'renamed' },
    });
    expect(r.updateDestination).toEqual({ id: A.destination, name: 'renamed' });
  });
});

describe('enums', () => {
  it('error kinds, filter operators, file formats, attempt statuses and column types are enums', async () => {
    const schema = await introspect();
    const types = new Map<string, { kind: string; fields: { name: string; type: TypeRef }[] | null; inputFields: { name: string; type: TypeRef }[] | null }>(
      schema.types.map((t: { name: string }) => [t.name, t]),
    );
    const kindOf = (type: string, field: string) => {
      const t = types.get(type)!;
      return named([...(t.fields ?? []), ...(t.inputFields ?? [])].find((f) => f.name === field)!.type).kind;
    };
    for (const [type, field] of [
      ['Run', 'errorKind'], ['RunAttempt', 'errorKind'], ['RunAttempt', 'status'], ['TestDestinationResult', 'errorKind'],
      ['PropertyFilter', 'operator'], ['PropertyFilterInput', 'operator'], ['DestinationCapabilities', 'formats'], ['ExportColumn', 'type'],
    ]) expect([type, field, kindOf(type, field)]).toEqual([type, field, 'ENUM']);
  });

  it('file formats read one spelling, whatever spelling a plugin declares', async () => {
    const data = await h.ok(h.a.token, `{ destinationTypes(first: 100) { edges { node { id capabilities { formats } } } } }`);
    const formats = new Map(data.destinationTypes.edges.map((e: { node: { id: string; capabilities: { formats: string[] | null } } }) => [e.node.id, e.node.capabilities.formats]));
    expect(formats.get('local-files')).toEqual(['JSON_LINES', 'PARQUET']);
    expect(formats.get('s3')).toEqual(['JSON_LINES', 'PARQUET']);
    for (const f of formats.values()) for (const v of (f as string[] | null) ?? []) expect(['JSON_LINES', 'PARQUET']).toContain(v);
  });

  it('a filter operator is given and read back as an enum value', async () => {
    const r = await h.ok(h.a.token, `mutation($input: UpdateBatchExportInput!) { updateBatchExport(input: $input) { filters { key operator value } } }`, {
      input: { id: A.export, filters: [{ key: '$browser', operator: 'ICONTAINS', value: 'fire' }] },
    });
    expect(r.updateBatchExport.filters).toEqual([{ key: '$browser', operator: 'ICONTAINS', value: 'fire' }]);
    const bad = await h.gql(h.a.token, `mutation($input: UpdateBatchExportInput!) { updateBatchExport(input: $input) { id } }`, {
      input: { id: A.export, filters: [{ key: '$browser', operator: 'icontains', value: 'fire' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('input errors', () => {
  const fieldsOf = (r: Awaited<ReturnType<ApiHarness['gql']>>) => (r.errors ?? []).map((e) => e.extensions?.field).sort();

  it('a destination config with two bad fields answers two errors, one per field, under input.config', async () => {
    const r = await h.gql(h.a.token, CREATE_DESTINATION, vaultInput('bad', { endpoint: 'not a url', apiKey: 'short' }));
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['input.config.apiKey', 'input.config.endpoint']);
    for (const e of r.errors!) {
      expect(e.extensions?.code).toBe('BAD_USER_INPUT');
      expect(e.extensions?.fields).toBeUndefined();
      expect(e.message.startsWith(`${e.extensions?.field}: `)).toBe(true);
      expect(e.path).toEqual(['createDestination']);
    }
  });

  it('unknown config keys are refused, one error naming each key', async () => {
    const r = await h.gql(h.a.token, CREATE_DESTINATION, vaultInput('unknown', { bukcet: 'x', options: { batchSize: 5, extra: 1 } }));
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['input.config.bukcet', 'input.config.options.extra']);
    for (const e of r.errors!) {
      expect(e.extensions?.code).toBe('BAD_USER_INPUT');
      expect(e.message).toContain(String(e.extensions?.field));
      expect(e.message).toMatch(/unknown/i);
    }
  });

  it('an input object with two bad fields (class-validator rules) answers two errors', async () => {
    const r = await h.gql(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
      input: { name: '', destinationId: A.destination, interval: 'HOUR', includeEvents: ['x'.repeat(401)] },
    });
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['input.includeEvents', 'input.name']);
  });

  it('a bad schedule reports each bad field', async () => {
    const r = await h.gql(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
      input: { name: 'sched', destinationId: A.destination, interval: 'WEEK', timezone: 'Mars/Olympus', offsetHour: 25, offsetDay: 9 },
    });
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['input.offsetDay', 'input.offsetHour', 'input.timezone']);
  });
});
