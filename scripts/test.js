#!/usr/bin/env node
// `npm test`: installs what the suite needs that npm cannot (nothing yet beyond node_modules), then runs jest.
const { spawnSync } = require('node:child_process');
const args = ['--experimental-vm-modules', require.resolve('jest/bin/jest'), ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
process.exit(r.status ?? 1);
