#!/usr/bin/env node
/**
 * `npm start`: builds what changed since the last build (usually nothing, see scripts/build.js), then runs
 * dist/src/main.js in this same process, so signals reach the server directly and no second Node starts.
 *
 * Without the build tools (a production install, `npm ci --omit=dev`) it runs the existing dist/ as it is:
 * production images start `node dist/src/main.js` directly and never reach this script.
 */
const fs = require('node:fs');
const path = require('node:path');
const { build, findTool, PARTS, staleReason, SOURCES_CHANGED } = require('./build');

const root = path.resolve(__dirname, '..');
const main = path.join(root, 'dist', 'src', 'main.js');
const canBuild = PARTS.every((part) => findTool(part.tool));

try {
  if (canBuild) build();
  else if (!fs.existsSync(main)) {
    throw new Error(
      `${path.relative(root, main)} is missing and the build tools are not installed (a production install, npm ci --omit=dev). ` +
        'Build first where the dev dependencies are installed (npm ci && npm run build), or use the Docker image ' +
        '(see "Running in production" in README.md).',
    );
  } else {
    const stale = PARTS.filter((part) => staleReason(part) === SOURCES_CHANGED).map((part) => part.name);
    if (stale.length) process.stderr.write(`Warning: the ${stale.join(' and ')} build is older than its sources; running it as built (the build tools are not installed).\n`);
  }
} catch (err) {
  process.stderr.write(`Outport cannot start: ${err.message}\n`);
  process.exit(1);
}
require(main);
