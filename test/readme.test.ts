/**
 * Keeps the README true: every GraphQL example validates against the committed schema, and every configuration
 * variable the code reads is documented in the configuration table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { ConfigSchema } from '../src/config';

const root = path.resolve(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const schema = buildSchema(fs.readFileSync(path.join(root, 'schema.graphql'), 'utf8'));
const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('README', () => {
  it('has GraphQL examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
  });

  it.each(examples.map((e) => [e.split('\n')[0], e]))('example "%s" is valid against schema.graphql', (_title, source) => {
    expect(validate(schema, parse(source as string)).map((e) => e.message)).toEqual([]);
  });

  it('documents every configuration variable', () => {
    const missing = Object.keys(ConfigSchema.shape).filter((k) => !readme.includes('`' + k + '`'));
    expect(missing).toEqual([]);
  });
});
