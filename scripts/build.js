#!/usr/bin/env node
/**
 * The production build, run once and cached: `npm run build` (and `npm start`, through scripts/start.js) rebuild a
 * part only when one of its inputs changed since that part was last built.
 *
 * - server: `tsc -p tsconfig.build.json` (src, plugins, scripts into dist/; node types only, never jest's,
 *   so the build does not depend on test tooling);
 * - dashboard: `vite build dashboard` into dashboard/dist (served by the API process).
 *
 * A part is stale when its output is missing, when any input file is newer than the part's stamp in
 * dist/.build-stamps/, or when the list of input files differs from the one the stamp records (a file was added,
 * deleted or renamed). The stamp is dated when the build started, so an edit made during a build triggers the next.
 *
 *   node scripts/build.js           build the stale parts
 *   node scripts/build.js --force   build everything
 *   node scripts/build.js --check   print the stale parts, exit 1 when there are any
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { createHash } = require('node:crypto');

const root = path.resolve(__dirname, '..');
const stampDir = path.join(root, 'dist', '.build-stamps');

const PARTS = [
  {
    name: 'server',
    inputs: ['src', 'plugins', 'scripts', 'ormconfig.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'],
    output: 'dist/src/main.js',
    tool: { pkg: 'typescript', bin: 'tsc' },
    args: (tool) => [tool, '-p', 'tsconfig.build.json'],
  },
  {
    name: 'dashboard',
    inputs: ['dashboard', 'package.json'],
    output: 'dashboard/dist/index.html',
    tool: { pkg: 'vite', bin: 'vite' },
    args: (tool) => [tool, 'build', 'dashboard', '--logLevel', 'warn'],
  },
];

const SKIPPED_NAMES = new Set(['node_modules', 'dist', 'results', '.git']);

/** Every input file of a part (build outputs and dependencies excluded), with its mtime in ms. */
function inputFiles(part) {
  const files = [];
  const walk = (rel) => {
    const stat = fs.statSync(path.join(root, rel), { throwIfNoEntry: false });
    if (!stat) return;
    if (!stat.isDirectory()) return void files.push([rel, stat.mtimeMs]);
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) if (!SKIPPED_NAMES.has(name)) walk(path.join(rel, name));
  };
  part.inputs.forEach(walk);
  return files;
}

/** Names the input files, so that deleting or renaming one (which leaves every other mtime alone) is a change. */
function fileListDigest(files) {
  return createHash('sha256').update(files.map(([rel]) => rel).join('\n')).digest('hex');
}

function stampFile(part) {
  return path.join(stampDir, part.name);
}

const SOURCES_CHANGED = 'sources changed since the last build';

/** Why the part must be rebuilt, or undefined when it is up to date. */
function staleReason(part) {
  if (!fs.existsSync(path.join(root, part.output))) return `${part.output} is missing`;
  const stamp = fs.statSync(stampFile(part), { throwIfNoEntry: false });
  if (!stamp) return 'never built by scripts/build.js';
  const files = inputFiles(part);
  const changed = files.some(([, mtime]) => mtime > stamp.mtimeMs) || fs.readFileSync(stampFile(part), 'utf8').trim() !== fileListDigest(files);
  return changed ? SOURCES_CHANGED : undefined;
}

function stalePartNames() {
  return PARTS.filter((p) => staleReason(p)).map((p) => p.name);
}

/** Where a build tool's command lives, or undefined in a production install (`npm ci --omit=dev`). */
function findTool({ pkg, bin }) {
  try {
    const manifest = require.resolve(`${pkg}/package.json`, { paths: [root] });
    const bins = require(manifest).bin;
    return path.resolve(path.dirname(manifest), typeof bins === 'string' ? bins : bins[bin]);
  } catch {
    return undefined;
  }
}

/** Builds the stale parts (all with `force`). Returns the names of the parts built; throws when a build fails. */
function build({ force = false, log = (line) => process.stderr.write(line + '\n') } = {}) {
  const built = [];
  for (const part of PARTS) {
    const reason = force ? 'forced' : staleReason(part);
    if (!reason) continue;
    const tool = findTool(part.tool);
    if (!tool) {
      throw new Error(
        `Cannot build the ${part.name} (${reason}): ${part.tool.pkg} is not installed, which happens after ` +
          '`npm ci --omit=dev`. Build where the dev dependencies are installed (`npm ci && npm run build`), then ' +
          'install for production, or use the Docker image (see "Running in production" in README.md).',
      );
    }
    const startedAt = new Date();
    const digest = fileListDigest(inputFiles(part));
    log(`Building the ${part.name} (${reason})…`);
    const r = spawnSync(process.execPath, part.args(tool), { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`Building the ${part.name} failed (exit ${r.status ?? r.signal}); see the output above.`);
    fs.mkdirSync(stampDir, { recursive: true });
    fs.writeFileSync(stampFile(part), `${digest}\n`);
    fs.utimesSync(stampFile(part), startedAt, startedAt);
    built.push(part.name);
  }
  return built;
}

module.exports = { build, stalePartNames, staleReason, findTool, PARTS, SOURCES_CHANGED };

if (require.main === module) {
  const args = process.argv.slice(2);
  try {
    if (args.includes('--check')) {
      const stale = stalePartNames();
      process.stdout.write(stale.length ? `stale: ${stale.join(', ')}\n` : 'up to date\n');
      process.exit(stale.length ? 1 : 0);
    }
    build({ force: args.includes('--force') });
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
