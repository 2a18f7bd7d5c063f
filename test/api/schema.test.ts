import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { printApiSchema } from '../../src/api/schema';

describe('schema.graphql', () => {
  it('matches the schema built from the resolvers (run `npm run schema` after changing the API)', async () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', 'schema.graphql'), 'utf8');
    const built = await printApiSchema();
    expect(built).toBe(committed);
  });

  it('is deterministic', async () => {
    expect(await printApiSchema()).toBe(await printApiSchema());
  });
});
