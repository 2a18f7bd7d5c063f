/**
 * The destination plugins this process can use, by id, plus what the API needs to present and check their
 * configs: the catalog (JSON Schema per plugin), validation into `{ path, message }` issues, secret masking and
 * merging an edit into a stored config.
 *
 * Wiring (composition root): `reflect-metadata` first, then either
 * `container.register(PluginRegistry, { useValue: await discoverPlugins({...}) })`, or
 * `container.register(LOADED_PLUGINS, { useValue: await loadPlugins({...}) })` and `container.resolve(PluginRegistry)`.
 */
import { inject, injectable, singleton, type InjectionToken } from 'tsyringe';
import type { Capabilities, DestinationPlugin, Model } from '../sdk';
import { sortedUnique, type LoadedPlugin } from './loaded';
import { configJsonSchema, type JsonSchema } from './json-schema';
import { pluginProblems } from './validate';

export const LOADED_PLUGINS: InjectionToken<readonly LoadedPlugin[]> = 'outport.LoadedPlugins';

/** What `maskSecrets` puts in place of a secret; sending it back in an edit keeps the stored secret. */
export const SECRET_MASK = '********';

export interface CatalogEntry {
  id: string;
  displayName: string;
  description?: string;
  models: readonly Model[];
  capabilities: Capabilities;
  secretFields: readonly string[];
  /** JSON Schema of the config users send (see configJsonSchema): secrets carry `writeOnly` and `x-secret`. */
  configSchema: JsonSchema;
}

export interface ConfigIssue {
  /** Path of the offending field (`['tls', 'ca']`, `['hosts', 0]`); empty for the config as a whole. */
  path: (string | number)[];
  message: string;
}

export type ConfigValidation<C = unknown> = { ok: true; config: C } | { ok: false; issues: ConfigIssue[] };

export class UnknownPluginError extends Error {
  override readonly name = 'UnknownPluginError';
  constructor(readonly id: string, known: string[]) {
    super(`Unknown destination type "${id}". Installed: ${known.length ? known.join(', ') : 'none'}.`);
  }
}

type Json = Record<string, unknown>;
const isPlainObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function mergeObjects(stored: Json, patch: Json, secrets: ReadonlySet<string>): Json {
  const out: Json = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (UNSAFE_KEYS.has(key) || value === undefined) continue;
    if (value === null) delete out[key];
    else if (secrets.has(key) && value === SECRET_MASK) continue;
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = mergeObjects(out[key] as Json, value, new Set());
    else out[key] = value;
  }
  return out;
}

@injectable()
@singleton()
export class PluginRegistry {
  private readonly byId: Map<string, LoadedPlugin>;
  private catalogCache?: CatalogEntry[];

  constructor(@inject(LOADED_PLUGINS) loaded: readonly LoadedPlugin[]) {
    this.byId = new Map(sortedUnique([...loaded]).map((l) => [l.plugin.id, l]));
  }

  /** A registry of plugins already in memory (tests, embedding). Throws when one is invalid. */
  static of(...plugins: DestinationPlugin[]): PluginRegistry {
    return new PluginRegistry(
      plugins.map((plugin) => {
        const problems = pluginProblems(plugin);
        if (problems.length) throw new Error(`Invalid destination plugin ${JSON.stringify(plugin?.id)}: ${problems.join('; ')}`);
        return { plugin, entry: `<in-memory:${plugin.id}>`, origin: { kind: 'folder', dir: '<in-memory>' } };
      }),
    );
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The plugin with `id`, or undefined when none is installed. */
  get(id: string): DestinationPlugin | undefined {
    return this.byId.get(id)?.plugin;
  }

  /** The plugin with `id`; throws UnknownPluginError (naming the installed ones) when there is none. */
  require(id: string): DestinationPlugin {
    const l = this.byId.get(id);
    if (!l) throw new UnknownPluginError(id, [...this.byId.keys()]);
    return l.plugin;
  }

  /** Where a plugin was loaded from, for logs and diagnostics. */
  source(id: string): LoadedPlugin | undefined {
    return this.byId.get(id);
  }

  /** All plugins, sorted by id. */
  list(): DestinationPlugin[] {
    return [...this.byId.values()].map((l) => l.plugin);
  }

  catalog(): CatalogEntry[] {
    this.catalogCache ??= this.list().map((p) => ({
      id: p.id,
      displayName: p.displayName,
      ...(p.description === undefined ? {} : { description: p.description }),
      models: [...p.models],
      capabilities: { ...p.capabilities },
      secretFields: [...p.secretFields],
      configSchema: configJsonSchema(p.configSchema, p.secretFields),
    }));
    return this.catalogCache;
  }

  /** Parses `raw` with the plugin's schema (UnknownPluginError for an unknown id): the parsed config (defaults filled in) or every issue found. */
  validateConfig<C = unknown>(id: string, raw: unknown): ConfigValidation<C> {
    const result = this.require(id).configSchema.safeParse(raw);
    if (result.success) return { ok: true, config: result.data as C };
    return {
      ok: false,
      issues: result.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? p : String(p))), message: i.message })),
    };
  }

  /** A copy of `config` safe to return or log: every secret that is set becomes SECRET_MASK. */
  maskSecrets<C extends object>(id: string, config: C): C {
    const out: Json = { ...(config as Json) };
    for (const field of this.require(id).secretFields) {
      const v = out[field];
      if (v !== undefined && v !== null && v !== '') out[field] = SECRET_MASK;
    }
    return out as C;
  }

  /**
   * Applies an edit to a stored config: objects merge deeply, omitted fields (secrets included) keep their stored
   * value, `null` clears a field, and a secret sent back as SECRET_MASK keeps the stored secret. The result is
   * not validated: pass it to `validateConfig`.
   */
  mergeConfig(id: string, stored: object, patch: object): Json {
    return mergeObjects(stored as Json, patch as Json, new Set(this.require(id).secretFields));
  }
}
