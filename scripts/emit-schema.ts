/** `npm run schema`: writes schema.graphql from the resolver code (sorted, so the diff shows only real changes). */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { printApiSchema } from '../src/api/schema';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
  const file = path.join(root, 'schema.graphql');
  const sdl = await printApiSchema();
  fs.writeFileSync(file, sdl);
  process.stdout.write(`wrote ${path.relative(process.cwd(), file) || file} (${sdl.length} bytes)\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
