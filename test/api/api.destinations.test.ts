import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const SECRET = 'good-key-123';
const CREATE = `mutation($name: String!, $type: String!, $config: JSONObject!) {
  createDestination(input: { name: $name, type: $type, config: $config }) { id name type config createdAt updatedAt } }`;
const UPDATE = `mutation($id: ID!, $name: String, $config: JSONObject) { updateDestination(input: { id: $id, name: $name, config: $config }) { id name config } }`;

async function createVault(config: Record<string, unknown> = {}) {
  const r = await h.ok(h.a.token, CREATE, {
    name: 'vault',
    type: 'vault-sink',
    config: { endpoint: 'https://sink.example.com/in', apiKey: SECRET, options: { batchSize: 50, tags: ['a'] }, ...config },
  });
  return r.createDestination;
}

describe('destination catalog', () => {
  it('lists installed plugins with models, capabilities, secret fields and a JSON Schema config', async () => {
    const r = await h.ok(h.a.readToken, `{ destinationTypes(first: 500) { edges { node { id displayName description models capabilities { merge formats } secretFields configSchema } } } }`);
    r.destinationTypes = r.destinationTypes.edges.map((e: { node: unknown }) => e.node);
    const vault = r.destinationTypes.find((t: { id: string }) => t.id === 'vault-sink');
    expect(vault).toMatchObject({ displayName: 'Vault sink (test)', models: ['EVENTS', 'PERSONS'], secretFields: ['apiKey'], capabilities: { merge: true, formats: null } });
    expect(vault.configSchema.properties.apiKey).toMatchObject({ type: 'string', writeOnly: true });
    expect(r.destinationTypes.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining(['example-ndjson', 'local-files']));
    // Broken fixture plugins were skipped, not served.
    expect(r.destinationTypes.map((t: { id: string }) => t.id).join(',')).not.toMatch(/broken/);
  });
});

describe('secrets', () => {
  it('encrypts secret fields at rest and never returns them', async () => {
    const d = await createVault();
    expect(d.type).toBe('vault-sink');
    expect(d.config).toEqual({ endpoint: 'https://sink.example.com/in', apiKey: '********', options: { batchSize: 50, tags: ['a'] } });
    const [raw] = await h.ds.query(`SELECT config, encrypted_secrets FROM destinations WHERE id = $1`, [d.id]);
    expect(raw.config).toEqual({ endpoint: 'https://sink.example.com/in', options: { batchSize: 50, tags: ['a'] } });
    expect(JSON.stringify(raw.config)).not.toContain(SECRET);
    expect(raw.encrypted_secrets).toMatch(/^v1:/);
    expect(raw.encrypted_secrets).not.toContain(SECRET);
    expect(Buffer.from(raw.encrypted_secrets.slice(3), 'base64').toString('latin1')).not.toContain(SECRET);
    expect(h.box.decrypt(raw.encrypted_secrets)).toEqual({ apiKey: SECRET });

    const read = await h.ok(h.a.readToken, `query($id: ID!) { destination(id: $id) { config } destinations { edges { node { id config } } } }`, { id: d.id });
    expect(JSON.stringify(read)).not.toContain(SECRET);
    expect(read.destination.config.apiKey).toBe('********');
  });

  it('an update omitting the secret (or sending the mask back) keeps it, and deep-merges nested settings', async () => {
    const d = await createVault();
    const r1 = await h.ok(h.a.token, UPDATE, { id: d.id, config: { options: { batchSize: 75 } } });
    expect(r1.updateDestination.config).toEqual({ endpoint: 'https://sink.example.com/in', apiKey: '********', options: { batchSize: 75, tags: ['a'] } });
    const r2 = await h.ok(h.a.token, UPDATE, { id: d.id, name: 'renamed', config: { apiKey: '********', endpoint: 'https://other.example.com/' } });
    expect(r2.updateDestination.name).toBe('renamed');
    const [raw] = await h.ds.query(`SELECT config, encrypted_secrets FROM destinations WHERE id = $1`, [d.id]);
    expect(h.box.decrypt(raw.encrypted_secrets)).toEqual({ apiKey: SECRET });
    expect(raw.config).toEqual({ endpoint: 'https://other.example.com/', options: { batchSize: 75, tags: ['a'] } });
    // The secret really is still usable: the connection test (which needs the exact key) passes.
    expect((await h.ok(h.a.token, `mutation($id: ID!) { testDestination(id: $id) { ok errorKind message } }`, { id: d.id })).testDestination)
      .toEqual({ ok: true, errorKind: null, message: null });

    await h.ok(h.a.token, UPDATE, { id: d.id, config: { apiKey: 'rotated-key-456' } });
    const [rotated] = await h.ds.query(`SELECT encrypted_secrets FROM destinations WHERE id = $1`, [d.id]);
    expect(h.box.decrypt(rotated.encrypted_secrets)).toEqual({ apiKey: 'rotated-key-456' });
  });

  it('testDestination reports a failed connection with its error kind', async () => {
    const d = await createVault({ apiKey: 'wrong-key-000' });
    const r = await h.ok(h.a.token, `mutation($id: ID!) { testDestination(id: $id) { ok errorKind message } }`, { id: d.id });
    expect(r.testDestination).toEqual({ ok: false, errorKind: 'CONFIG', message: 'apiKey was rejected by the endpoint' });
  });

  it('testDestination gives up on a plugin that never answers (timeout, retryable)', async () => {
    const d = await createVault({ endpoint: 'https://hang.example.com' });
    const started = Date.now();
    const r = await h.ok(h.a.token, `mutation($id: ID!) { testDestination(id: $id) { ok errorKind message } }`, { id: d.id });
    expect(r.testDestination).toEqual({ ok: false, errorKind: 'RETRYABLE', message: expect.stringMatching(/timed out after 1 s/) });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('validation', () => {
  it('refuses an unknown type naming the field', async () => {
    const r = await h.gql(h.a.token, CREATE, { name: 'x', type: 'nope', config: {} });
    expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.type' });
    expect(r.errors?.[0].message).toMatch(/unknown destination type "nope".*vault-sink/);
  });

  it('refuses a config failing the plugin schema, one error per issue with its path', async () => {
    const r = await h.gql(h.a.token, CREATE, { name: 'x', type: 'vault-sink', config: { endpoint: 'not a url', apiKey: 'short', options: { batchSize: 0 } } });
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT']);
    expect(r.errors?.map((e) => e.extensions?.field).sort()).toEqual(['input.config.apiKey', 'input.config.endpoint', 'input.config.options.batchSize']);
    for (const e of r.errors!) expect(e.message.startsWith(`${e.extensions?.field}: `)).toBe(true);
    const count = await h.ds.query(`SELECT count(*)::int AS n FROM destinations WHERE name = 'x'`);
    expect(count[0].n).toBe(0);
  });

  it('refuses empty and too long names, and a bad merged config on update leaves the row untouched', async () => {
    expect((await h.gql(h.a.token, CREATE, { name: '   ', type: 'vault-sink', config: {} })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    expect((await h.gql(h.a.token, CREATE, { name: 'n'.repeat(201), type: 'vault-sink', config: {} })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    const d = await createVault();
    const bad = await h.gql(h.a.token, UPDATE, { id: d.id, name: 'changed', config: { options: { batchSize: -1 } } });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.config.options.batchSize' });
    const [raw] = await h.ds.query(`SELECT name, config FROM destinations WHERE id = $1`, [d.id]);
    expect(raw).toEqual({ name: 'vault', config: { endpoint: 'https://sink.example.com/in', options: { batchSize: 50, tags: ['a'] } } });
  });

  it('round-trips hostile strings in names and configs', async () => {
    const name = `"quoted" \\ back'slash 🚀 \u202Ertl`;
    const tags = ["'; DROP TABLE destinations; --", 'é\u0301', '\uD83D\uDE00', 'x'.repeat(10_000)];
    const r = await h.ok(h.a.token, CREATE, { name, type: 'vault-sink', config: { endpoint: 'https://e.example.com', apiKey: 'k\u00e9y-"\\-🚀', options: { tags } } });
    const back = await h.ok(h.a.token, `query($id: ID!) { destination(id: $id) { name config } }`, { id: r.createDestination.id });
    expect(back.destination.name).toBe(name.trim());
    expect(back.destination.config.options.tags).toEqual(tags);
    const [raw] = await h.ds.query(`SELECT encrypted_secrets FROM destinations WHERE id = $1`, [r.createDestination.id]);
    expect(h.box.decrypt(raw.encrypted_secrets)).toEqual({ apiKey: 'k\u00e9y-"\\-🚀' });
  });
});

describe('delete', () => {
  it('is refused while a live export uses the destination, allowed once it is deleted', async () => {
    const d = await createVault();
    const e = await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
      input: { name: 'uses vault', destinationId: d.id, interval: 'HOUR' },
    });
    const refused = await h.gql(h.a.token, `mutation($id: ID!) { deleteDestination(id: $id) { id } }`, { id: d.id });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(refused.errors?.[0].message).toContain('"uses vault"');
    await h.ok(h.a.token, `mutation($id: ID!) { deleteBatchExport(id: $id) { id } }`, { id: e.createBatchExport.id });
    await h.ok(h.a.token, `mutation($id: ID!) { deleteDestination(id: $id) { id } }`, { id: d.id });
    const gone = await h.gql(h.a.token, `query($id: ID!) { destination(id: $id) { id } }`, { id: d.id });
    expect(gone.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const listed = await h.ok(h.a.token, `{ destinations { edges { node { id } } } }`);
    expect(listed.destinations.edges.map((x: { node: { id: string } }) => x.node.id)).not.toContain(d.id);
  });
});
