/** A stored destination's full plugin config: non-secret settings plus decrypted secrets, parsed by the plugin's schema. */
import { DestinationError, type DestinationPlugin } from '../sdk';
import type { DestinationEntity } from '../store/entities';
import type { SecretBox } from '../store/secrets';
import { configLocations, NetworkPolicyError, parseNetworkPolicy, type NetworkPolicy } from '../plugins/network-policy';

export function resolveDestinationConfig(plugin: DestinationPlugin, dest: DestinationEntity, box: SecretBox): unknown {
  const raw = { ...dest.config, ...box.decrypt(dest.encryptedSecrets) };
  const parsed = plugin.configSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new DestinationError('config', `Destination "${dest.name}" has an invalid ${plugin.id} configuration: ${issues}`);
  }
  return parsed.data;
}

const policies = new Map<string, NetworkPolicy>();

/**
 * The operator's network policy, checked again right before a run connects: a destination saved before the policy
 * was tightened, or whose host name now resolves into a refused network, fails as a configuration error.
 */
export async function assertLocationsAllowed(config: unknown, destinationNetworks: string | undefined): Promise<void> {
  const setting = destinationNetworks ?? '';
  if (!setting.trim() || !config || typeof config !== 'object') return;
  let policy = policies.get(setting);
  if (!policy) policies.set(setting, (policy = parseNetworkPolicy(setting)));
  for (const { field, host } of configLocations(config as Record<string, unknown>)) {
    try {
      await policy.checkHost(host);
    } catch (err) {
      if (!(err instanceof NetworkPolicyError)) throw err;
      throw new DestinationError('config', `The destination's ${field} "${host}" is not allowed: ${err.message}`);
    }
  }
}
