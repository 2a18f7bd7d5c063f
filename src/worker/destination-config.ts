/** A stored destination's full plugin config: non-secret settings plus decrypted secrets, parsed by the plugin's schema. */
import { DestinationError, type DestinationPlugin } from '../sdk';
import type { DestinationEntity } from '../store/entities';
import type { SecretBox } from '../store/secrets';

export function resolveDestinationConfig(plugin: DestinationPlugin, dest: DestinationEntity, box: SecretBox): unknown {
  const raw = { ...dest.config, ...box.decrypt(dest.encryptedSecrets) };
  const parsed = plugin.configSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new DestinationError('config', `Destination "${dest.name}" has an invalid ${plugin.id} configuration: ${issues}`);
  }
  return parsed.data;
}
