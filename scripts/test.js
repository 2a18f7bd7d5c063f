#!/usr/bin/env node
/**
 * `npm test`: prepares what the suite needs beyond node_modules, then runs jest.
 * - builds the project (tests spawn the real `dist/src/main.js` as separate worker processes);
 * - installs Debian's chromium for the dashboard's browser tests when it is missing (never a downloaded browser).
 * Embedded Postgres, embedded ClickHouse and the local S3 server are started by jest's globalSetup.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
};

function ensureChromium() {
  const chromium = process.env.OUTPORT_CHROMIUM_PATH || '/usr/bin/chromium';
  if (fs.existsSync(chromium) || process.env.OUTPORT_SKIP_BROWSER_INSTALL) return;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    console.warn(`chromium not found at ${chromium}; install it (apt-get install -y chromium) for the dashboard tests`);
    return;
  }
  console.log('Installing Debian chromium for the browser tests…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env });
}

if (!process.env.OUTPORT_SKIP_BUILD) run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
ensureChromium();
const jest = spawnSync(process.execPath, ['--experimental-vm-modules', require.resolve('jest/bin/jest'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, NODE_NO_WARNINGS: '1' },
});
process.exit(jest.status ?? 1);
