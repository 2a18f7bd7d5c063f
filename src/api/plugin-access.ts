/**
 * What the API needs from the plugin host, in one place: the registry's methods are called only from here, so
 * the rest of the API depends on this narrow surface.
 */
import type { DestinationPlugin } from '../sdk';
import { PluginRegistry, type CatalogEntry } from '../plugins';
import { badInput } from './errors';

export class PluginAccess {
  constructor(private readonly registry: PluginRegistry) {}

  catalog(): CatalogEntry[] {
    return this.registry.catalog();
  }

  /** The plugin for a destination type; BAD_USER_INPUT on `field` when no such plugin is installed. */
  plugin(type: string, field = 'type'): DestinationPlugin {
    const plugin = this.registry.get(type);
    if (!plugin) {
      const known = this.catalog().map((c) => c.id).join(', ');
      throw badInput(field, `unknown destination type ${JSON.stringify(type)}; installed types: ${known || '(none)'}`);
    }
    return plugin;
  }

  /** Validates a full config with the plugin's zod schema; every issue is reported with its path under `field`. */
  validate(type: string, config: Record<string, unknown>, field = 'config'): void {
    const result = this.registry.validateConfig(type, config);
    if (result.ok) return;
    const issues = result.issues.map((i) => `${[field, ...i.path].join('.')}: ${i.message}`);
    const first = result.issues[0];
    throw badInput(first ? [field, ...first.path].join('.') : field, issues.join('; '));
  }

  mask(type: string, config: Record<string, unknown>): Record<string, unknown> {
    return this.registry.maskSecrets(type, config);
  }

  /** Deep merge of a patch onto the stored config; omitted or masked secrets keep their stored values. */
  merge(type: string, stored: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
    return this.registry.mergeConfig(type, stored, patch);
  }
}
