/**
 * Issue 12.8: a destination stores only what its plugin's schema validated. Keys the schema does not know (a
 * 1 MB string, `$ne`, `constructor.prototype`, `__proto__`) are refused with BAD_USER_INPUT naming each key, on
 * create and on update, and what is stored (and echoed back) is the schema's parsed output.
 */
import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness();
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const VALID = { endpoint: 'https://sink.example.com/in', apiKey: 'good-key-123' };
const CREATE = `mutation($config: JSONObject!) { createDestination(input: { name: "v", type: "vault-sink", config: $config }) { id config } }`;
const UPDATE = `mutation($id: ID!, $config: JSONObject) { updateDestination(input: { id: $id, config: $config }) { id config } }`;

async function storedRow(id: string): Promise<{ config: Record<string, unknown>; secrets: Record<string, unknown> }> {
  const [row] = await h.ds.query(`SELECT config, encrypted_secrets FROM destinations WHERE id = $1`, [id]);
  return { config: row.config, secrets: h.box.decrypt(row.encrypted_secrets) ?? {} };
}

const count = async () => Number((await h.ds.query(`SELECT count(*) AS n FROM destinations WHERE team_id = $1`, [h.a.id]))[0].n);

describe('unknown config keys', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['a 1 MB string under an unknown key', { blob: 'x'.repeat(1_000_000) }, ['input.config.blob']],
    ['a Mongo-style operator key', { $ne: null }, ['input.config.$ne']],
    ['constructor.prototype', { constructor: { prototype: { isAdmin: true } } }, ['input.config.constructor']],
    ['__proto__', JSON.parse('{"__proto__": {"polluted": true}}'), ['input.config.__proto__']],
    ['an unknown key nested in a known object', { options: { batchSize: 5, tags: [], extra: 1 } }, ['input.config.options.extra']],
    ['several unknown keys at once', { a: 1, b: 2 }, ['input.config.a', 'input.config.b']],
  ];

  for (const [name, extra, fields] of cases) {
    it(`createDestination refuses ${name}, naming each key, and stores nothing`, async () => {
      const before = await count();
      const r = await h.gql(h.a.token, CREATE, { config: { ...VALID, ...extra } });
      // One error per unknown key, each naming it.
      expect(r.errors?.map((e) => e.extensions?.field)).toEqual(fields);
      for (const [i, f] of fields.entries()) {
        expect(r.errors?.[i].extensions?.code).toBe('BAD_USER_INPUT');
        expect(r.errors?.[i].message).toContain(f);
        expect(r.errors?.[i].message).toMatch(/unknown/i);
        expect(r.errors?.[i].message.length).toBeLessThan(2000);
      }
      expect(await count()).toBe(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  it('updateDestination refuses unknown keys and keeps the stored config', async () => {
    const { id } = (await h.ok(h.a.token, CREATE, { config: VALID })).createDestination;
    const before = await storedRow(id);
    const r = await h.gql(h.a.token, UPDATE, { id, config: { $where: 'sleep(1000)', options: { evil: 1 } } });
    expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([
      ['BAD_USER_INPUT', 'input.config.$where'],
      ['BAD_USER_INPUT', 'input.config.options.evil'],
    ]);
    expect(await storedRow(id)).toEqual(before);
  });
});

describe('what is stored', () => {
  it('is the parsed config: known keys with defaults filled in, the secret sealed apart', async () => {
    const { id, config } = (await h.ok(h.a.token, CREATE, { config: VALID })).createDestination;
    const row = await storedRow(id);
    expect(row.config).toEqual({ endpoint: VALID.endpoint, options: { batchSize: 100, tags: [] } });
    expect(row.secrets).toEqual({ apiKey: VALID.apiKey });
    expect(config).toEqual({ endpoint: VALID.endpoint, apiKey: '********', options: { batchSize: 100, tags: [] } });
  });

  it('an update stores the parsed merge, keeping the stored secret, and drops keys stored before this check existed', async () => {
    const { id } = (await h.ok(h.a.token, CREATE, { config: VALID })).createDestination;
    // A row written by an older version that kept whatever it was given.
    await h.ds.query(`UPDATE destinations SET config = config || '{"legacyJunk": "x", "$ne": 1}'::jsonb WHERE id = $1`, [id]);
    const r = await h.ok(h.a.token, UPDATE, { id, config: { options: { batchSize: 7 }, apiKey: '********' } });
    expect(r.updateDestination.config).toEqual({ endpoint: VALID.endpoint, apiKey: '********', options: { batchSize: 7, tags: [] } });
    const row = await storedRow(id);
    expect(row.config).toEqual({ endpoint: VALID.endpoint, options: { batchSize: 7, tags: [] } });
    expect(row.secrets).toEqual({ apiKey: VALID.apiKey });
  });

  it('a legacy row with unknown keys never echoes them back', async () => {
    const { id } = (await h.ok(h.a.token, CREATE, { config: VALID })).createDestination;
    await h.ds.query(`UPDATE destinations SET config = config || '{"legacyJunk": "x"}'::jsonb WHERE id = $1`, [id]);
    const r = await h.ok(h.a.token, `query($id: ID!) { destination(id: $id) { config } }`, { id });
    expect(r.destination.config).not.toHaveProperty('legacyJunk');
  });
});
