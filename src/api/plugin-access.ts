/**
 * What the API needs from the plugin host, in one place: the registry's methods are called only from here, so
 * the rest of the API depends on this narrow surface.
 */
import type { DestinationPlugin } from '../sdk';
import { PluginRegistry, type CatalogEntry } from '../plugins';
import { badInput, badInputs } from './errors';

/** Unknown keys reported one error each (the rest counted), and how much of each key's name is shown (a key can be megabytes long). */
const UNKNOWN_KEYS_SHOWN = 20;
const KEY_CHARS_SHOWN = 80;

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

  /**
   * Validates a full config with the plugin's zod schema and returns its parsed output (defaults filled in), the
   * only thing to store. Keys the schema does not define, in `given` (default: `config`, the client's input), are
   * refused rather than silently dropped, so a typo never looks accepted. Every issue is reported with its path
   * under `field`.
   */
  validate(type: string, config: Record<string, unknown>, opts: { given?: Record<string, unknown>; field?: string } = {}): Record<string, unknown> {
    const field = opts.field ?? 'config';
    const schema = this.plugin(type).configSchema;
    const unknown = unknownKeys(schema, opts.given ?? config, [field]);
    if (unknown.length) {
      const shown = unknown.slice(0, UNKNOWN_KEYS_SHOWN).map((k) => (k.length > KEY_CHARS_SHOWN ? `${k.slice(0, KEY_CHARS_SHOWN)}…` : k));
      const issues = shown.map((key) => ({
        field: key,
        message: `unknown config key: the ${type} destination does not define ${JSON.stringify(key.split('.').at(-1))} (see destinationTypes.configSchema); remove it`,
      }));
      if (unknown.length > shown.length) issues.push({ field, message: `${unknown.length - shown.length} more unknown config keys not listed` });
      throw badInputs(issues);
    }
    const result = this.registry.validateConfig<Record<string, unknown>>(type, config);
    if (result.ok) return result.config;
    if (!result.issues.length) throw badInput(field, 'is not valid for this destination type');
    throw badInputs(result.issues.map((i) => ({ field: [field, ...i.path].join('.'), message: i.message })));
  }

  /** `config` without the keys the plugin's schema does not define (rows stored before unknown keys were refused). */
  knownKeysOnly(type: string, config: Record<string, unknown>): Record<string, unknown> {
    return dropUnknown(this.plugin(type).configSchema, config) as Record<string, unknown>;
  }

  mask(type: string, config: Record<string, unknown>): Record<string, unknown> {
    return this.registry.maskSecrets(type, config);
  }

  /** Deep merge of a patch onto the stored config; omitted or masked secrets keep their stored values. */
  merge(type: string, stored: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
    return this.registry.mergeConfig(type, stored, patch);
  }
}

interface ZodDef {
  type?: string;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
  shape?: Record<string, unknown>;
  catchall?: unknown;
}

const defOf = (schema: unknown): ZodDef | undefined => (schema as { _zod?: { def?: ZodDef } })?._zod?.def;
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

/** The schema under optional/default/pipe wrappers (zod 4 internals, read by duck typing: plugins bring their own zod copy). */
function unwrapped(schema: unknown): ZodDef | undefined {
  let def = defOf(schema);
  for (let i = 0; def && i < 20; i++) {
    if (def.type && WRAPPERS.has(def.type)) def = defOf(def.innerType);
    else if (def.type === 'pipe') def = defOf(def.in);
    else break;
  }
  return def;
}

/** Objects whose catchall accepts extra keys (z.looseObject, .catchall(...)) define no unknown keys. */
const acceptsAnyKey = (def: ZodDef) => def.catchall !== undefined && defOf(def.catchall)?.type !== 'never';

/** Paths of keys in `value` that `schema` does not define, where the schema is an object (or array of them). */
function unknownKeys(schema: unknown, value: unknown, path: string[]): string[] {
  const def = unwrapped(schema);
  if (!def || value === null || typeof value !== 'object') return [];
  if (def.type === 'array' && Array.isArray(value)) return value.flatMap((v, i) => unknownKeys(def.element, v, [...path, String(i)]));
  if (def.type !== 'object' || !def.shape || Array.isArray(value) || acceptsAnyKey(def)) return [];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (Object.hasOwn(def.shape, key)) out.push(...unknownKeys(def.shape[key], v, [...path, key]));
    else out.push([...path, key].join('.'));
  }
  return out;
}

function dropUnknown(schema: unknown, value: unknown): unknown {
  const def = unwrapped(schema);
  if (!def || value === null || typeof value !== 'object') return value;
  if (def.type === 'array' && Array.isArray(value)) return value.map((v) => dropUnknown(def.element, v));
  if (def.type !== 'object' || !def.shape || Array.isArray(value) || acceptsAnyKey(def)) return value;
  const shape = def.shape;
  return Object.fromEntries(Object.entries(value).filter(([k]) => Object.hasOwn(shape, k)).map(([k, v]) => [k, dropUnknown(shape[k], v)]));
}
