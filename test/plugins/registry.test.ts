import 'reflect-metadata';
import { container } from 'tsyringe';
import { z } from 'zod';
import { defineDestination, type DestinationPlugin } from '../../src/sdk';
import { LOADED_PLUGINS, PluginRegistry, pluginProblems, SECRET_MASK, UnknownPluginError, type LoadedPlugin } from '../../src/plugins';
import example from '../fixtures/plugins/example-ndjson';

const warehouse = defineDestination({
  id: 'warehouse',
  displayName: 'Warehouse',
  configSchema: z.object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(5432),
    password: z.string().min(1),
    privateKey: z.string().optional(),
    options: z.object({ ssl: z.boolean().default(false), timeoutMs: z.number().int().positive().optional() }).default({ ssl: false }),
  }),
  secretFields: ['password', 'privateKey'],
  models: ['events'],
  capabilities: { merge: false },
  async testConnection() {},
  async write() {
    return { rowsLanded: 0, bytesWritten: 0 };
  },
});

describe('PluginRegistry', () => {
  const registry = PluginRegistry.of(warehouse, example);

  it('lists plugins by id and answers lookups', () => {
    expect(registry.list().map((p) => p.id)).toEqual(['example-ndjson', 'warehouse']);
    expect(registry.has('warehouse')).toBe(true);
    expect(registry.get('warehouse')).toBe(warehouse);
    expect(registry.has('nope')).toBe(false);
    expect(registry.get('nope')).toBeUndefined();
    expect(() => registry.require('nope')).toThrow(new UnknownPluginError('nope', ['example-ndjson', 'warehouse']));
    expect(() => registry.require('nope')).toThrow('Unknown destination type "nope". Installed: example-ndjson, warehouse.');
  });

  it('validates configs into parsed values with defaults, or issues with paths', () => {
    expect(registry.validateConfig('warehouse', { host: 'db', password: 'pw' })).toEqual({
      ok: true,
      config: { host: 'db', port: 5432, password: 'pw', options: { ssl: false } },
    });
    const bad = registry.validateConfig('warehouse', { host: '', port: 'x', password: 'pw', options: { ssl: 'yes', timeoutMs: -1 } });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.issues.map((i) => i.path)).toEqual([['host'], ['port'], ['options', 'ssl'], ['options', 'timeoutMs']]);
    expect(!bad.ok && bad.issues.every((i) => typeof i.message === 'string' && i.message.length > 0)).toBe(true);
    expect(registry.validateConfig('warehouse', null)).toEqual({ ok: false, issues: [{ path: [], message: expect.any(String) }] });
    expect(() => registry.validateConfig('nope', {})).toThrow(UnknownPluginError);
  });

  it('masks secrets that are set, and nothing else', () => {
    const config = { host: 'db', port: 5432, password: 'hunter2', privateKey: undefined, options: { ssl: true } };
    expect(registry.maskSecrets('warehouse', config)).toEqual({ host: 'db', port: 5432, password: SECRET_MASK, privateKey: undefined, options: { ssl: true } });
    expect(registry.maskSecrets('warehouse', { host: 'db', password: '' })).toEqual({ host: 'db', password: '' });
    expect(config.password).toBe('hunter2');
  });

  it('merges an edit into a stored config: deep, omitted secrets kept, null clears, the mask keeps the secret', () => {
    const stored = { host: 'db', port: 5432, password: 'hunter2', privateKey: 'PEM', options: { ssl: true, timeoutMs: 1000 } };
    expect(registry.mergeConfig('warehouse', stored, { port: 6543, options: { timeoutMs: 2000 } })).toEqual({
      host: 'db', port: 6543, password: 'hunter2', privateKey: 'PEM', options: { ssl: true, timeoutMs: 2000 },
    });
    expect(registry.mergeConfig('warehouse', stored, { password: SECRET_MASK, privateKey: null, options: null })).toEqual({
      host: 'db', port: 5432, password: 'hunter2',
    });
    expect(registry.mergeConfig('warehouse', stored, { password: 'new-secret', host: SECRET_MASK })).toMatchObject({ password: 'new-secret', host: SECRET_MASK });
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "options": {"constructor": {"x": 1}}}');
    const merged = registry.mergeConfig('warehouse', stored, hostile);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(merged.options).toEqual({ ssl: true, timeoutMs: 1000 });
    expect(stored.options).toEqual({ ssl: true, timeoutMs: 1000 });
  });

  it('is a tsyringe singleton built from the discovered plugins', () => {
    const loaded: LoadedPlugin[] = [{ plugin: warehouse, entry: '/plugins/warehouse/index.js', origin: { kind: 'folder', dir: '/plugins/warehouse' } }];
    container.register(LOADED_PLUGINS, { useValue: loaded });
    const resolved = container.resolve(PluginRegistry);
    expect(resolved.list()).toEqual([warehouse]);
    expect(resolved.source('warehouse')?.entry).toBe('/plugins/warehouse/index.js');
    expect(container.resolve(PluginRegistry)).toBe(resolved);
  });

  it('refuses two plugins with one id and invalid in-memory plugins', () => {
    expect(() => PluginRegistry.of(warehouse, { ...warehouse })).toThrow('Two destination plugins have the id "warehouse"');
    expect(() => PluginRegistry.of({ ...warehouse, id: 'Bad Id' })).toThrow(/Invalid destination plugin "Bad Id": id "Bad Id" must match/);
  });
});

describe('pluginProblems', () => {
  const valid = warehouse as DestinationPlugin;

  it('accepts a well-formed plugin', () => {
    expect(pluginProblems(valid)).toEqual([]);
  });

  it.each([
    ['id "x" must match', { id: 'x' }],
    ['id "has_underscore" must match', { id: 'has_underscore' }],
    ['must match', { id: 'a'.repeat(42) }],
    ['displayName must be a non-empty string', { displayName: ' ' }],
    ['description must be a string when set', { description: 42 }],
    ['configSchema must be a zod schema (it has no safeParse)', { configSchema: { parse() {} }, secretFields: [] }],
    ['secretFields ["pasword"] are not fields of configSchema', { secretFields: ['pasword'] }],
    ['secretFields must be an array of field names', { secretFields: 'password' }],
    ['models must be a non-empty array', { models: [] }],
    ['models ["clicks"] are not models Outport exports (events, persons, sessions)', { models: ['events', 'clicks'] }],
    ['models lists a model twice', { models: ['events', 'events'] }],
    ['capabilities must be an object', { capabilities: undefined }],
    ['capabilities.merge must be a boolean', { capabilities: { merge: 'yes' } }],
    ['capabilities.suggestedConcurrency must be a positive integer', { capabilities: { merge: true, suggestedConcurrency: 0 } }],
    ['capabilities.formats must be an array of strings', { capabilities: { merge: true, formats: 'csv' } }],
    ['testConnection must be a function', { testConnection: undefined }],
    ['classifyError must be a function', { classifyError: 'retry' }],
  ])('reports: %s', (problem, patch) => {
    expect(pluginProblems({ ...valid, ...patch })).toEqual([expect.stringContaining(problem)]);
  });

  it('accepts config schemas with parts JSON Schema cannot express (they render as "any")', () => {
    const schema = z.object({ at: z.custom<string>((v) => typeof v === 'string').transform((v) => v.trim()) });
    expect(pluginProblems({ ...valid, secretFields: [], configSchema: schema })).toEqual([]);
  });

  it('explains a module without a plugin object', () => {
    expect(pluginProblems(undefined)).toEqual(['the module does not export a plugin object (expected `export default defineDestination({...})`)']);
  });
});
