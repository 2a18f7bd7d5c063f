/**
 * Which network locations users may point Outport at (destination hosts, endpoints and URLs; the team webhook).
 * The operator decides with OUTPORT_DESTINATION_NETWORKS; the default allows everything, because the demo and
 * self-hosted set-ups commonly export to 127.0.0.1 or a private network. Multi-tenant operators should deny
 * `private` (see README, Security).
 *
 * Syntax: comma-separated rules, `deny:<cidr|private>` and `allow:<cidr>`; an address matching any allow rule is
 * allowed, otherwise one matching a deny rule is refused. `private` is loopback, RFC 1918, CGNAT, link-local
 * (cloud metadata 169.254.169.254), unspecified, IPv6 unique-local and link-local. IPv4-mapped IPv6 addresses
 * (::ffff:10.0.0.1) are checked as the IPv4 address they carry. Host names are resolved and every address checked.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const PRIVATE_V4 = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'];
const PRIVATE_V6 = ['::/128', '::1/128', 'fc00::/7', 'fe80::/10'];

export class NetworkPolicyError extends Error {
  override name = 'NetworkPolicyError';
}

export interface NetworkPolicy {
  /** The setting as given, for messages. Empty: everything allowed. */
  readonly source: string;
  /** Throws NetworkPolicyError when `address` (an IP literal) is refused. */
  checkAddress(address: string): void;
  /** Resolves `host` (a name or IP literal) and checks every address it resolves to. */
  checkHost(host: string): Promise<void>;
}

/** Parses the setting; throws with the offending rule when it is malformed (fail at start-up, not at use). */
export function parseNetworkPolicy(setting: string | undefined): NetworkPolicy {
  const source = (setting ?? '').trim();
  const deny = new BlockList();
  const allow = new BlockList();
  let rules = 0;
  for (const raw of source.split(',').map((r) => r.trim()).filter(Boolean)) {
    const m = /^(allow|deny):(.+)$/.exec(raw);
    if (!m) throw new NetworkPolicyError(`OUTPORT_DESTINATION_NETWORKS: "${raw}" is not a rule; write deny:<cidr|private> or allow:<cidr>`);
    const list = m[1] === 'allow' ? allow : deny;
    const cidrs = m[2] === 'private' ? [...PRIVATE_V4, ...PRIVATE_V6] : [m[2]];
    for (const cidr of cidrs) addSubnet(list, cidr, raw);
    rules++;
  }
  const checkAddress = (address: string) => {
    const plain = unmapped(address);
    const type = isIP(plain) === 6 ? 'ipv6' : 'ipv4';
    if (rules === 0 || allow.check(plain, type)) return;
    if (deny.check(plain, type)) {
      throw new NetworkPolicyError(`${address} is in a network this server refuses for destinations and webhooks (OUTPORT_DESTINATION_NETWORKS=${source})`);
    }
  };
  return {
    source,
    checkAddress,
    async checkHost(host: string) {
      if (rules === 0) return;
      const bare = host.replace(/^\[(.*)\]$/, '$1');
      if (isIP(bare)) return checkAddress(bare);
      const addresses = await lookup(bare, { all: true, verbatim: true });
      for (const { address } of addresses) {
        try {
          checkAddress(address);
        } catch (err) {
          throw new NetworkPolicyError(`${host} resolves to ${(err as Error).message}`);
        }
      }
    },
  };
}

function addSubnet(list: BlockList, cidr: string, rule: string): void {
  const [address, bits] = cidr.split('/');
  const family = isIP(address);
  const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
  if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
    throw new NetworkPolicyError(`OUTPORT_DESTINATION_NETWORKS: "${rule}" does not hold a valid CIDR (e.g. 10.0.0.0/8 or fd00::/8)`);
  }
  list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
}

/** ::ffff:a.b.c.d (and its hex form ::ffff:7f00:1) is the IPv4 address a.b.c.d. */
function unmapped(address: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return address;
}

/** The network locations in a destination config: values of host/endpoint/url-like keys, as host names. */
export function configLocations(config: Record<string, unknown>): { field: string; host: string }[] {
  const out: { field: string; host: string }[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      return;
    }
    const key = path[path.length - 1] ?? '';
    if (typeof value !== 'string' || !/(^|_)(host|hostname|endpoint|url|uri)$/i.test(key) || !value) return;
    const host = hostOf(value);
    if (host) out.push({ field: path.join('.'), host });
  };
  walk(config, []);
  return out;
}

function hostOf(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      return new URL(value).hostname.replace(/^\[(.*)\]$/, '$1') || undefined;
    } catch {
      return undefined;
    }
  }
  return value.trim() || undefined;
}
