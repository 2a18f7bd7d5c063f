/**
 * Issue 12.4 (network locations): with OUTPORT_DESTINATION_NETWORKS=deny:private, destinations and the team
 * webhook cannot point at the operator's own network: loopback, private, link-local (cloud metadata), in every
 * spelling (IPv6, IPv4-mapped IPv6, host names resolving there). The default allows everything.
 */
import { parseNetworkPolicy } from '../../src/plugins/network-policy';
import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApiHarness({ env: { OUTPORT_DESTINATION_NETWORKS: 'deny:private,allow:192.168.77.0/24' } });
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const CREATE = `mutation($type: String!, $config: JSONObject!) { createDestination(input: { name: "d", type: $type, config: $config }) { id } }`;
const REFUSED = [
  'http://127.0.0.1:9000', 'http://127.1.2.3', 'http://localhost:9000', 'http://[::1]:9000', 'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/', 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3', 'http://172.16.0.1', 'http://192.168.1.1',
  'http://100.64.0.1', 'http://0.0.0.0', 'http://[fe80::1]', 'http://[fd00::1]',
];

describe('deny:private', () => {
  for (const endpoint of REFUSED) {
    it(`refuses a destination endpoint at ${endpoint}, naming the field and the setting`, async () => {
      const r = await h.gql(h.a.token, CREATE, { type: 'vault-sink', config: { endpoint, apiKey: 'good-key-123' } });
      expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0].extensions?.field).toBe('input.config.endpoint');
      expect(r.errors?.[0].message).toContain('OUTPORT_DESTINATION_NETWORKS');
    });
  }

  it('refuses a Postgres host on the loopback network', async () => {
    const r = await h.gql(h.a.token, CREATE, { type: 'postgres', config: { host: 'localhost', user: 'u', password: 'p', database: 'd' } });
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0].extensions?.field).toBe('input.config.host');
  });

  it('refuses moving an existing destination into a denied network on update', async () => {
    const { id } = (await h.ok(h.a.token, CREATE, { type: 'vault-sink', config: { endpoint: 'https://93.184.216.34/in', apiKey: 'good-key-123' } })).createDestination;
    const r = await h.gql(h.a.token, `mutation($id: ID!, $c: JSONObject) { updateDestination(input: { id: $id, config: $c }) { id } }`, { id, c: { endpoint: 'http://[::1]/' } });
    expect(r.errors?.[0].extensions?.field).toBe('input.config.endpoint');
  });

  it('allows public addresses and the allow-listed exception', async () => {
    await h.ok(h.a.token, CREATE, { type: 'vault-sink', config: { endpoint: 'https://93.184.216.34/in', apiKey: 'good-key-123' } });
    await h.ok(h.a.token, CREATE, { type: 'vault-sink', config: { endpoint: 'http://192.168.77.5/in', apiKey: 'good-key-123' } });
  });

  it('refuses a webhook URL in a denied network', async () => {
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://[::ffff:169.254.169.254]/']) {
      const r = await h.gql(h.a.token, `mutation($u: String) { updateTeam(input: { webhookUrl: $u }) { webhookUrl } }`, { u: url });
      expect(r.errors?.[0].extensions?.field).toBe('input.webhookUrl');
      expect(r.errors?.[0].message).toContain('OUTPORT_DESTINATION_NETWORKS');
    }
    const [team] = await h.ds.query(`SELECT webhook_url FROM teams WHERE id = $1`, [h.a.id]);
    expect(team.webhook_url).toBeNull();
  });
});

describe('parseNetworkPolicy', () => {
  it('allows everything by default (the demo and local set-ups export to 127.0.0.1)', async () => {
    await expect(parseNetworkPolicy('').checkHost('127.0.0.1')).resolves.toBeUndefined();
    await expect(parseNetworkPolicy(undefined).checkHost('localhost')).resolves.toBeUndefined();
  });

  it('refuses a malformed setting, naming the rule', () => {
    expect(() => parseNetworkPolicy('deny:10.0.0.0/33')).toThrow(/deny:10\.0\.0\.0\/33/);
    expect(() => parseNetworkPolicy('block:private')).toThrow(/block:private/);
  });
});
