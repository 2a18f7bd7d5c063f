/**
 * Finds destination plugins in two places:
 * - folders: every subfolder of each `dirs` entry is one plugin, loaded with `require(folder)` semantics
 *   (`index.js` in dist, `index.ts` under ts-jest, or the folder's package.json `main`);
 * - npm packages: every package in a node_modules folder (scoped ones included) whose package.json declares
 *   `"outport": { "destination": "./entry.js" }`. Only package.json files are read; other packages are never
 *   required.
 * An invalid plugin or one that fails to load is logged and skipped; two plugins with one id stop start-up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DestinationPlugin, PluginLogger } from '../sdk';
import { sortedUnique, type LoadedPlugin, type PluginOrigin } from './loaded';
import { PluginRegistry } from './registry';
import { pluginProblems } from './validate';

/** What the host needs of a logger (a pino logger fits after adapting its argument order). */
export type HostLogger = Pick<PluginLogger, 'info' | 'warn' | 'error'>;

export interface DiscoverOptions {
  /** Folders whose subfolders are plugins (the app's `plugins/`, `dist/plugins/` once built). Missing ones are logged. */
  dirs: string[];
  /** node_modules folders, or folders that contain one, scanned for plugin packages. Default: none. */
  packageRoots?: string[];
  logger: HostLogger;
}

interface Candidate {
  entry: string;
  origin: PluginOrigin;
}

function subdirectories(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => !name.startsWith('.') && !name.startsWith('_') && name !== 'node_modules')
    .sort()
    .map((name) => path.join(dir, name))
    .filter((p) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory());
}

function folderCandidates(dirs: string[], logger: HostLogger): Candidate[] {
  const out: Candidate[] = [];
  for (const raw of dirs) {
    const dir = path.resolve(raw);
    if (!fs.existsSync(dir)) {
      logger.warn(`Plugin folder ${dir} does not exist: no plugins loaded from it`, { path: dir });
      continue;
    }
    for (const folder of subdirectories(dir)) {
      let entry: string;
      try {
        entry = require.resolve(folder);
      } catch {
        logger.warn(`Skipping destination plugin ${folder}: no entry point (expected index.js, or a package.json "main")`, { path: folder });
        continue;
      }
      out.push({ entry, origin: { kind: 'folder', dir: folder } });
    }
  }
  return out;
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function packageCandidate(pkgDir: string, logger: HostLogger): Candidate | undefined {
  const manifest = path.join(pkgDir, 'package.json');
  if (!fs.existsSync(manifest)) return undefined;
  let pkg: { name?: unknown; outport?: { destination?: unknown } };
  try {
    pkg = readJson(manifest) as typeof pkg;
  } catch (cause) {
    logger.warn(`Ignoring ${manifest}: it is not valid JSON`, { path: manifest, cause });
    return undefined;
  }
  if (pkg?.outport === undefined) return undefined;
  const name = typeof pkg.name === 'string' ? pkg.name : path.basename(pkgDir);
  const destination = pkg.outport?.destination;
  if (typeof destination !== 'string' || destination === '') {
    logger.warn(`Skipping destination plugin package ${name} (${manifest}): "outport.destination" must be a path such as "./dist/index.js"`, { path: manifest });
    return undefined;
  }
  const entry = path.resolve(pkgDir, destination);
  if (path.relative(pkgDir, entry).startsWith('..')) {
    logger.warn(`Skipping destination plugin package ${name} (${manifest}): "outport.destination" points outside the package`, { path: manifest });
    return undefined;
  }
  return { entry, origin: { kind: 'package', name, dir: pkgDir } };
}

function packageCandidates(roots: string[], logger: HostLogger): Candidate[] {
  const out: Candidate[] = [];
  for (const raw of roots) {
    const root = path.resolve(raw);
    const modules = path.basename(root) !== 'node_modules' && fs.existsSync(path.join(root, 'node_modules')) ? path.join(root, 'node_modules') : root;
    if (!fs.existsSync(modules)) {
      logger.warn(`Package folder ${modules} does not exist: no plugin packages loaded from it`, { path: modules });
      continue;
    }
    for (const dir of subdirectories(modules)) {
      const dirs = path.basename(dir).startsWith('@') ? subdirectories(dir) : [dir];
      for (const pkgDir of dirs) {
        const candidate = packageCandidate(pkgDir, logger);
        if (candidate) out.push(candidate);
      }
    }
  }
  return out;
}

/** `require`, falling back to `import()` for ES modules that `require` refuses. */
async function loadModule(entry: string): Promise<unknown> {
  try {
    return require(entry);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return import(pathToFileURL(entry).href);
    throw err;
  }
}

/** The plugin object inside a module: `export default`, `module.exports =`, or an ES module's default. */
function exportedPlugin(mod: unknown): unknown {
  let candidate = mod;
  for (let i = 0; i < 2; i++) {
    const m = candidate as { default?: unknown; id?: unknown } | null;
    if (m && typeof m === 'object' && m.default !== undefined && m.id === undefined) candidate = m.default;
  }
  return candidate;
}

async function load(c: Candidate, logger: HostLogger): Promise<LoadedPlugin | undefined> {
  let candidate: unknown;
  try {
    candidate = exportedPlugin(await loadModule(c.entry));
  } catch (cause) {
    logger.error(`Skipping destination plugin ${c.entry}: it failed to load: ${(cause as Error)?.message ?? String(cause)}`, { path: c.entry, cause });
    return undefined;
  }
  const problems = pluginProblems(candidate);
  if (problems.length > 0) {
    logger.warn(`Skipping destination plugin ${c.entry}: ${problems.join('; ')}`, { path: c.entry, problems });
    return undefined;
  }
  return { plugin: candidate as DestinationPlugin, entry: c.entry, origin: c.origin };
}

/** Loads every valid plugin from `dirs` and `packageRoots`, sorted by id. Throws DuplicatePluginError. */
export async function loadPlugins(options: DiscoverOptions): Promise<LoadedPlugin[]> {
  const { logger } = options;
  const candidates = [...folderCandidates(options.dirs, logger), ...packageCandidates(options.packageRoots ?? [], logger)];
  const loaded: LoadedPlugin[] = [];
  for (const c of candidates) {
    const l = await load(c, logger);
    if (l) loaded.push(l);
  }
  const plugins = sortedUnique(loaded);
  for (const l of plugins) {
    logger.info(`Loaded destination plugin "${l.plugin.id}" (${l.plugin.displayName}) from ${l.entry}`, { id: l.plugin.id, path: l.entry, origin: l.origin.kind });
  }
  return plugins;
}

/** `loadPlugins`, served as a PluginRegistry. */
export async function discoverPlugins(options: DiscoverOptions): Promise<PluginRegistry> {
  return new PluginRegistry(await loadPlugins(options));
}
