/** A plugin the host accepted, and the rule that no two share an id. */
import type { DestinationPlugin } from '../sdk';

export type PluginOrigin = { kind: 'folder'; dir: string } | { kind: 'package'; name: string; dir: string };

export interface LoadedPlugin {
  plugin: DestinationPlugin;
  /** The file the plugin was loaded from. */
  entry: string;
  origin: PluginOrigin;
}

/** Start-up error: two plugins claim one id, and silently picking one would route data to the wrong place. */
export class DuplicatePluginError extends Error {
  override readonly name = 'DuplicatePluginError';
  constructor(readonly id: string, readonly entries: [string, string]) {
    super(`Two destination plugins have the id "${id}": ${entries[0]} and ${entries[1]}. Remove one of them or give it another id.`);
  }
}

/** Throws DuplicatePluginError when two plugins share an id; otherwise returns them sorted by id. */
export function sortedUnique(loaded: LoadedPlugin[]): LoadedPlugin[] {
  const byId = new Map<string, LoadedPlugin>();
  for (const l of loaded) {
    const earlier = byId.get(l.plugin.id);
    if (earlier) throw new DuplicatePluginError(l.plugin.id, [earlier.entry, l.entry]);
    byId.set(l.plugin.id, l);
  }
  return [...byId.values()].sort((a, b) => (a.plugin.id < b.plugin.id ? -1 : a.plugin.id > b.plugin.id ? 1 : 0));
}
