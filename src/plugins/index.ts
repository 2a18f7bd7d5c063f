/** The plugin host: discovers destination plugins, validates them and serves them to the API and the worker. */
export { discoverPlugins, loadPlugins } from './discover';
export type { DiscoverOptions, HostLogger } from './discover';
export { DuplicatePluginError, sortedUnique } from './loaded';
export type { LoadedPlugin, PluginOrigin } from './loaded';
export { configJsonSchema } from './json-schema';
export type { JsonSchema } from './json-schema';
export { LOADED_PLUGINS, PluginRegistry, SECRET_MASK, UnknownPluginError } from './registry';
export type { CatalogEntry, ConfigIssue, ConfigValidation } from './registry';
export { PLUGIN_ID_PATTERN, pluginProblems } from './validate';
