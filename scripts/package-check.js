#!/usr/bin/env node
/**
 * Rehearses the Docker image without a Docker engine, from the same instructions:
 * - build stage: the files .dockerignore lets in are copied to a temp folder and built there with
 *   `node scripts/build.js --force` (this project's node_modules stands in for the stage's `npm ci`);
 * - runtime stage: exactly the files the Dockerfile's `COPY --from=build` lines copy, then
 *   `npm ci --omit=dev --omit=optional` (or without --omit=optional with --embedded), as the image does.
 *
 *   npm run package:check [-- --embedded] [-- --keep]
 *
 * prints the size of the runtime folder, then (without --embedded) starts it as the image would: the api role
 * against a real Postgres and ClickHouse must answer /healthz, /readyz and the dashboard, and without their URLs
 * the process must refuse to start, naming the engines it lacks. About a minute; run it after changing the
 * Dockerfile, .dockerignore, the build or the dependencies (test/integration/packaging.test.ts keeps the cheap checks).
 */
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/** The `.dockerignore` rules of this project: `*`, then `!name` to let a top-level entry in, then paths to keep out. */
function buildContextRules(projectRoot = root) {
  const lines = fs
    .readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines[0] !== '*') throw new Error('.dockerignore must start with `*` (an allowlist); package-check reads it that way');
  const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
  const denied = lines.slice(1).filter((l) => !l.startsWith('!'));
  const deniedExtensions = denied.filter((l) => l.startsWith('**/*')).map((l) => l.slice(4));
  const deniedPaths = denied.filter((l) => !l.startsWith('**/'));
  return { allowed, isDenied: (rel) => deniedPaths.includes(rel) || deniedExtensions.some((ext) => rel.endsWith(ext)) };
}

function copyTree(from, to, rel, isDenied) {
  if (isDenied(rel)) return;
  const stat = fs.statSync(path.join(from, rel), { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isDirectory()) {
    fs.mkdirSync(path.join(to, rel), { recursive: true });
    for (const name of fs.readdirSync(path.join(from, rel))) copyTree(from, to, path.posix.join(rel, name), isDenied);
  } else {
    fs.copyFileSync(path.join(from, rel), path.join(to, rel));
  }
}

/** The build stage: the build context copied to `buildDir` and built there. */
function buildStage(buildDir, { projectRoot = root, log = () => undefined } = {}) {
  const { allowed, isDenied } = buildContextRules(projectRoot);
  for (const entry of allowed) copyTree(projectRoot, buildDir, entry, isDenied);
  fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(buildDir, 'node_modules'), 'dir');
  log('build stage: node scripts/build.js --force');
  const r = spawnSync(process.execPath, ['scripts/build.js', '--force'], { cwd: buildDir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the build stage failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** The runtime stage's `COPY --from=build <sources...> <dest>` instructions, sources relative to the build folder. */
function runtimeCopies(projectRoot = root) {
  const dockerfile = fs.readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
  return dockerfile
    .split('\n')
    .filter((l) => /^COPY\s+--from=build\s/.test(l))
    .map((l) => {
      const args = l.trim().split(/\s+/).slice(2);
      const dest = args.pop();
      return { sources: args.map((s) => path.posix.relative('/src', s)), dest };
    });
}

/** Expands a `*` in the last segment of a path, as Docker's COPY does. */
function expand(buildDir, source) {
  if (!path.basename(source).includes('*')) return [source];
  const dir = path.dirname(source);
  const pattern = new RegExp('^' + path.basename(source).split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return fs.readdirSync(path.join(buildDir, dir)).filter((n) => pattern.test(n)).map((n) => path.posix.join(dir, n));
}

/** The runtime stage: the files the Dockerfile copies, then the production install. */
function runtimeStage(buildDir, appDir, { embedded = false, log = () => undefined } = {}) {
  for (const { sources, dest } of runtimeCopies()) {
    for (const source of sources.flatMap((s) => expand(buildDir, s))) {
      const from = path.join(buildDir, source);
      if (!fs.existsSync(from)) throw new Error(`The Dockerfile copies ${source} from the build stage, but the build did not produce it`);
      const into = dest.endsWith('/') ? path.join(appDir, dest, path.basename(source)) : path.join(appDir, dest);
      fs.mkdirSync(path.dirname(into), { recursive: true });
      fs.cpSync(from, into, { recursive: true });
    }
  }
  const args = ['ci', '--omit=dev', ...(embedded ? [] : ['--omit=optional']), '--prefer-offline', '--no-audit', '--no-fund'];
  log(`runtime stage: npm ${args.join(' ')}`);
  execFileSync('npm', args, { cwd: appDir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
}

/** Bytes under `dir` (files only, symlinks not followed). */
function sizeOf(dir) {
  let total = 0;
  const walk = (p) => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
    else if (st.isFile()) total += st.size;
  };
  walk(dir);
  return total;
}

/** Both stages into a new temp folder. Returns its paths; `cleanup()` removes it. */
function rehearseImage({ embedded = false, log = () => undefined } = {}) {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-package-'));
  const buildDir = path.join(stage, 'build');
  const appDir = path.join(stage, 'app');
  fs.mkdirSync(buildDir);
  fs.mkdirSync(appDir);
  try {
    buildStage(buildDir, { log });
    runtimeStage(buildDir, appDir, { embedded, log });
  } catch (err) {
    fs.rmSync(stage, { recursive: true, force: true });
    throw err;
  }
  return { stage, buildDir, appDir, cleanup: () => fs.rmSync(stage, { recursive: true, force: true }) };
}

/** `node dist/src/main.js` in the runtime folder, as the image's CMD runs it, with only `env` configuring it. */
function startProduction(appDir, env) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|CLICKHOUSE_|OUTPORT_|PORT$|HOST$|NODE_OPTIONS$)/.test(k)),
  );
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: appDir,
    env: { ...inherited, NODE_ENV: 'production', OUTPORT_DATA_DIR: path.join(appDir, 'data'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

/** Resolves with the API's URL once the process says it is up; rejects if it exits first or takes too long. */
function apiUrlOf(proc, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`not up after ${timeoutMs} ms:\n${proc.output().slice(-3000)}`)), timeoutMs);
    const poll = setInterval(() => {
      const m = /GraphQL API:\s+(\S+)/.exec(proc.output());
      if (m) done(undefined, m[1]);
    }, 100);
    const done = (err, url) => {
      clearInterval(poll);
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(url);
    };
    proc.exited.then((code) => done(new Error(`exited with ${code} before it was up:\n${proc.output().slice(-3000)}`)));
  });
}

/**
 * The checks a running image allows: the api role against real servers answers /healthz, /readyz and the
 * dashboard; without the servers' URLs the process refuses to start, naming the missing engines.
 * Real servers: the embedded Postgres and ClickHouse of the build stage's (development) install.
 */
async function checkRuntime(image, log) {
  const distOf = (rel) => path.join(image.buildDir, 'dist', 'src', rel);
  const { startEmbeddedPostgres } = require(distOf('store/embedded-postgres.js'));
  const { startEmbeddedClickHouse } = require(distOf('source/embedded-clickhouse.js'));
  const servers = path.join(image.stage, 'servers');
  fs.mkdirSync(servers, { mode: 0o755 });
  fs.chmodSync(image.stage, 0o755);
  const [pg, ch] = await Promise.all([
    startEmbeddedPostgres({ dataDir: path.join(servers, 'pg'), persistent: false }),
    startEmbeddedClickHouse({ dataDir: path.join(servers, 'clickhouse') }),
  ]);
  try {
    const started = Date.now();
    const api = startProduction(image.appDir, {
      OUTPORT_ROLES: 'api',
      DATABASE_URL: pg.url,
      CLICKHOUSE_URL: ch.url,
      OUTPORT_SECRET_KEY: randomBytes(32).toString('hex'),
      HOST: '127.0.0.1',
      PORT: '0',
    });
    try {
      const base = new URL('/', await apiUrlOf(api));
      for (const [pathname, expected] of [['/healthz', 'ok'], ['/readyz', 'ready'], ['/', '<html']]) {
        const res = await fetch(new URL(pathname, base));
        const body = await res.text();
        if (res.status !== 200 || !body.includes(expected)) throw new Error(`GET ${pathname} answered ${res.status}: ${body.slice(0, 300)}`);
        log(`api role against real Postgres and ClickHouse: GET ${pathname} -> 200`);
      }
      log(`api role healthy ${((Date.now() - started) / 1000).toFixed(1)} s after start (migrations of an empty database included)`);
    } finally {
      api.child.kill('SIGTERM');
      await api.exited;
    }
    const bare = startProduction(image.appDir, {});
    const code = await bare.exited;
    const said = bare.output();
    if (code !== 2 || !said.includes("'embedded-postgres'") || !said.includes("'chdb'")) {
      throw new Error(`without DATABASE_URL and CLICKHOUSE_URL the process exited ${code}, saying:\n${said}`);
    }
    log(`without DATABASE_URL and CLICKHOUSE_URL: exit 2, saying:\n${said.trim().replace(/^/gm, '  | ')}`);
  } finally {
    await Promise.all([pg.stop(), ch.stop()]);
  }
}

module.exports = { buildContextRules, runtimeCopies, buildStage, runtimeStage, rehearseImage, sizeOf, startProduction, apiUrlOf, checkRuntime };

if (require.main === module) {
  const args = process.argv.slice(2);
  const embedded = args.includes('--embedded');
  const mib = (n) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
  const log = (line) => console.log(line);
  (async () => {
    const started = Date.now();
    const image = rehearseImage({ embedded, log });
    try {
      log(`runtime folder ${image.appDir}: ${mib(sizeOf(image.appDir))} (node_modules ${mib(sizeOf(path.join(image.appDir, 'node_modules')))}), ` +
        `${embedded ? 'with' : 'without'} the embedded engines, built and installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      if (!embedded) await checkRuntime(image, log);
    } finally {
      if (args.includes('--keep')) log(`kept: ${image.stage}`);
      else image.cleanup();
    }
  })().catch((err) => {
    console.error(`package check failed: ${err.stack ?? err}`);
    process.exitCode = 1;
  });
}
