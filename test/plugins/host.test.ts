import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv2020 from 'ajv/dist/2020';
import { z } from 'zod';
import { defineDestination } from '../../src/sdk';
import { DuplicatePluginError, loadPlugins, discoverPlugins, PluginRegistry } from '../../src/plugins';
import { captureLogger, pluginSource, tempDir, writeFiles } from './helpers';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'plugins');
const temps: string[] = [];
const temp = (prefix: string) => {
  const dir = tempDir(prefix);
  temps.push(dir);
  return dir;
};
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('discovering plugin folders', () => {
  it('loads the valid plugin and skips each broken one with a log line naming its path and the problem', async () => {
    const logger = captureLogger();
    const loaded = await loadPlugins({ dirs: [FIXTURES], logger });

    expect(loaded.map((l) => l.plugin.id)).toEqual(['example-ndjson']);
    expect(loaded[0].entry).toBe(path.join(FIXTURES, 'example-ndjson', 'index.ts'));
    expect(loaded[0].origin).toEqual({ kind: 'folder', dir: path.join(FIXTURES, 'example-ndjson') });

    const warn = logger.at('warn').map((l) => l.msg);
    expect(warn).toEqual([
      `Skipping destination plugin ${path.join(FIXTURES, 'broken-no-entry')}: no entry point (expected index.js, or a package.json "main")`,
      `Skipping destination plugin ${path.join(FIXTURES, 'broken-no-write', 'index.ts')}: write must be a function`,
      expect.stringContaining(`Skipping destination plugin ${path.join(FIXTURES, 'broken-wrong-contract', 'index.ts')}: `),
    ]);
    expect(warn[2]).toContain('contractVersion is 99, this Outport supports 1');
    expect(warn[2]).toContain('secretFields ["password"] are not fields of configSchema');

    const [loadError] = logger.at('error');
    expect(logger.at('error')).toHaveLength(1);
    expect(loadError.msg).toBe(
      `Skipping destination plugin ${path.join(FIXTURES, 'broken-throws-on-load', 'index.ts')}: it failed to load: ` +
        'broken-throws-on-load: cannot find native module "acme-driver.node"',
    );
    expect(loadError.fields?.cause).toBeInstanceOf(Error);
    expect(logger.at('info').map((l) => l.msg)).toEqual([expect.stringContaining('Loaded destination plugin "example-ndjson"')]);
  });

  it('orders plugins by id, not by folder name, and warns about a missing folder instead of failing', async () => {
    const dir = temp('plugins');
    writeFiles(dir, { 'a-folder/index.js': pluginSource('zeta'), 'z-folder/index.js': pluginSource('alpha') });
    const logger = captureLogger();
    const loaded = await loadPlugins({ dirs: [path.join(dir, 'missing'), dir], logger });
    expect(loaded.map((l) => l.plugin.id)).toEqual(['alpha', 'zeta']);
    expect(logger.at('warn').map((l) => l.msg)).toEqual([`Plugin folder ${path.join(dir, 'missing')} does not exist: no plugins loaded from it`]);
  });

  it('refuses to start when two plugins share an id, naming both', async () => {
    const dir = temp('plugins');
    const root = temp('app');
    writeFiles(dir, { 'acme/index.js': pluginSource('acme') });
    writeFiles(root, {
      'node_modules/outport-acme/package.json': JSON.stringify({ name: 'outport-acme', outport: { destination: './lib/entry.js' } }),
      'node_modules/outport-acme/lib/entry.js': pluginSource('acme'),
    });
    const run = loadPlugins({ dirs: [dir], packageRoots: [root], logger: captureLogger() });
    await expect(run).rejects.toBeInstanceOf(DuplicatePluginError);
    await expect(loadPlugins({ dirs: [dir], packageRoots: [root], logger: captureLogger() })).rejects.toThrow(
      `Two destination plugins have the id "acme": ${path.join(dir, 'acme', 'index.js')} and ${path.join(root, 'node_modules', 'outport-acme', 'lib', 'entry.js')}`,
    );
  });
});

describe('discovering npm packages', () => {
  it('loads packages that declare "outport.destination", scoped ones too, and never requires other packages', async () => {
    const root = temp('app');
    const marker = path.join(root, 'required-unrelated');
    writeFiles(root, {
      'node_modules/outport-destination-acme/package.json': JSON.stringify({ name: 'outport-destination-acme', outport: { destination: './dist/index.js' } }),
      'node_modules/outport-destination-acme/dist/index.js': pluginSource('acme-warehouse'),
      'node_modules/@corp/outport-lake/package.json': JSON.stringify({ name: '@corp/outport-lake', outport: { destination: 'main.js' } }),
      'node_modules/@corp/outport-lake/main.js': pluginSource('corp-lake'),
      'node_modules/@corp/unrelated/package.json': JSON.stringify({ name: '@corp/unrelated', main: 'index.js' }),
      'node_modules/@corp/unrelated/index.js': `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');`,
      'node_modules/left-pad/package.json': JSON.stringify({ name: 'left-pad', main: 'index.js' }),
      'node_modules/left-pad/index.js': `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');`,
      'node_modules/outport-escape/package.json': JSON.stringify({ name: 'outport-escape', outport: { destination: '../left-pad/index.js' } }),
      'node_modules/outport-typo/package.json': JSON.stringify({ name: 'outport-typo', outport: { destinaton: './index.js' } }),
      'node_modules/broken-json/package.json': '{ "name": ',
      'node_modules/.bin/ignored': '',
    });
    const logger = captureLogger();
    const loaded = await loadPlugins({ dirs: [], packageRoots: [root], logger });

    expect(loaded.map((l) => [l.plugin.id, l.origin.kind === 'package' ? l.origin.name : '?'])).toEqual([
      ['acme-warehouse', 'outport-destination-acme'],
      ['corp-lake', '@corp/outport-lake'],
    ]);
    expect(fs.existsSync(marker)).toBe(false);
    const warn = logger.at('warn').map((l) => l.msg);
    expect(warn).toEqual([
      expect.stringMatching(/^Ignoring .*broken-json.package\.json: it is not valid JSON$/),
      expect.stringMatching(/^Skipping destination plugin package outport-escape .*: "outport.destination" points outside the package$/),
      expect.stringMatching(/^Skipping destination plugin package outport-typo .*: "outport.destination" must be a path/),
    ]);
  });

  it('accepts the node_modules folder itself as a package root', async () => {
    const root = temp('app');
    writeFiles(root, {
      'node_modules/outport-x/package.json': JSON.stringify({ name: 'outport-x', outport: { destination: './index.js' } }),
      'node_modules/outport-x/index.js': pluginSource('x-dest'),
    });
    const registry = await discoverPlugins({ dirs: [], packageRoots: [path.join(root, 'node_modules')], logger: captureLogger() });
    expect(registry).toBeInstanceOf(PluginRegistry);
    expect(registry.list().map((p) => p.id)).toEqual(['x-dest']);
  });
});

describe('discovering ES module plugins', () => {
  it('loads an ES module package through import() when require refuses it', async () => {
    const root = temp('app');
    const zodUrl = pathToFileURL(require.resolve('zod')).href;
    writeFiles(root, {
      'node_modules/outport-esm/package.json': JSON.stringify({ name: 'outport-esm', type: 'module', outport: { destination: './index.js' } }),
      'node_modules/outport-esm/index.js': pluginSource('esm-dest')
        .replace(/const \{ z \} = require\((.*)\);/, `import { z } from ${JSON.stringify(zodUrl)};`)
        .replace('module.exports =', 'export default'),
    });
    const logger = captureLogger();
    const loaded = await loadPlugins({ dirs: [], packageRoots: [root], logger });
    expect(logger.at('error')).toEqual([]);
    expect(loaded.map((l) => l.plugin.id)).toEqual(['esm-dest']);
  });
});

describe('catalog JSON Schema', () => {
  const secretive = defineDestination({
    id: 'secretive',
    displayName: 'Secretive',
    description: 'A destination with secrets, defaults and nesting',
    configSchema: z.object({
      host: z.string().min(1).describe('Server host name'),
      port: z.number().int().min(1).max(65535).default(5432),
      user: z.string().min(1),
      password: z.string().min(1).describe('Password of `user`'),
      mode: z.enum(['append', 'merge']).default('merge'),
      tls: z.object({ enabled: z.boolean(), ca: z.string().optional() }).optional(),
      tags: z.array(z.string().max(8)).max(3).optional(),
    }),
    secretFields: ['password'],
    models: ['events', 'persons'],
    capabilities: { merge: true, suggestedConcurrency: 2 },
    async testConnection() {},
    async write() {
      return { rowsLanded: 0, bytesWritten: 0 };
    },
  });

  const samples: unknown[] = [
    { host: 'db', user: 'u', password: 'p' },
    { host: 'db', user: 'u', password: 'p', port: 6543, mode: 'append', tls: { enabled: true, ca: 'pem' }, tags: ['a', 'b'] },
    { host: 'db', user: 'u', password: 'p', unknownField: 'ignored' },
    { host: 'db', user: 'u' },
    { host: '', user: 'u', password: 'p' },
    { host: 'db', user: 'u', password: 'p', port: 0 },
    { host: 'db', user: 'u', password: 'p', port: 70000 },
    { host: 'db', user: 'u', password: 'p', port: 5432.5 },
    { host: 'db', user: 'u', password: 'p', port: '5432' },
    { host: 'db', user: 'u', password: 'p', mode: 'upsert' },
    { host: 'db', user: 'u', password: 'p', tls: { ca: 'pem' } },
    { host: 'db', user: 'u', password: 'p', tags: ['a', 'b', 'c', 'd'] },
    { host: 'db', user: 'u', password: 'p', tags: ['far-too-long'] },
    { host: 42, user: 'u', password: 'p' },
    null,
    'host=db',
  ];

  it('marks secret fields and describes each plugin', async () => {
    const registry = await discoverPlugins({ dirs: [FIXTURES], logger: captureLogger() });
    const [example] = registry.catalog();
    expect(example).toMatchObject({ id: 'example-ndjson', models: ['events', 'persons'], secretFields: [], capabilities: { merge: true } });
    expect(example.configSchema).toMatchObject({
      type: 'object',
      required: ['directory'],
      properties: { directory: { type: 'string', description: expect.stringContaining('directory') }, prefix: { default: '' } },
    });

    const entry = PluginRegistry.of(secretive).catalog()[0];
    expect(entry).toMatchObject({ id: 'secretive', description: 'A destination with secrets, defaults and nesting', secretFields: ['password'] });
    const props = entry.configSchema.properties as Record<string, Record<string, unknown>>;
    expect(props.password).toEqual({ type: 'string', minLength: 1, description: 'Password of `user`', writeOnly: true, 'x-secret': true });
    expect(props.user['x-secret']).toBeUndefined();
    expect(entry.configSchema.required).toEqual(['host', 'user', 'password']);
  });

  it('accepts and rejects the same configs as the zod schema', async () => {
    const registry = PluginRegistry.of(secretive, (await discoverPlugins({ dirs: [FIXTURES], logger: captureLogger() })).require('example-ndjson'));
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const exampleSamples: unknown[] = [{ directory: '/tmp/x' }, { directory: '/tmp/x', prefix: 'a_b' }, { directory: '' }, { directory: '/tmp', prefix: 'a/b' }, {}];
    let compared = 0;
    for (const entry of registry.catalog()) {
      const validate = ajv.compile(entry.configSchema);
      const plugin = registry.require(entry.id);
      for (const sample of entry.id === 'secretive' ? samples : exampleSamples) {
        const verdicts = { sample, zod: plugin.configSchema.safeParse(sample).success, jsonSchema: validate(sample) };
        expect(verdicts).toEqual({ ...verdicts, jsonSchema: verdicts.zod });
        compared++;
      }
    }
    expect(compared).toBe(samples.length + 5);
    // The documented gap: `.refine()` checks have no JSON Schema form, which is why the server validates with zod.
    const example = registry.catalog().find((e) => e.id === 'example-ndjson')!;
    expect(ajv.compile(example.configSchema)({ directory: 'relative/dir' })).toBe(true);
    expect(registry.validateConfig('example-ndjson', { directory: 'relative/dir' })).toEqual({
      ok: false,
      issues: [{ path: ['directory'], message: 'must be an absolute path' }],
    });
    // Both verdicts occur, so agreement is not the trivial "everything passes".
    expect(samples.map((s) => secretive.configSchema.safeParse(s).success)).toEqual([true, true, true, ...Array(13).fill(false)]);
  });
});
