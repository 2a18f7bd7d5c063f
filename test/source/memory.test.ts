import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { insertBulkEvents } from '../../src/source/generator';
import { clickHouseUrl, createTestClickHouse } from './support/clickhouse';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Transpiles the reader and every module it imports by relative path (followed, so a new import needs no edit
 * here) into a directory that still resolves node_modules from the repo.
 */
function compileSource(): string {
  const out = path.join(ROOT, 'node_modules/.cache/outport-source-memory-test');
  // What the child process requires (test/source/support/stream-child.js), and what they import.
  const pending = ['src/source/source.ts', 'src/source/config.ts'];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const { outputText } = ts.transpileModule(text, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    });
    fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
    fs.writeFileSync(path.join(out, file.replace(/\.ts$/, '.js')), outputText);
    // Type-only imports vanish from the output; only the ones that survive are needed at run time.
    for (const [, spec] of outputText.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
      const target = path.join(path.dirname(file), spec);
      pending.push(fs.existsSync(path.join(ROOT, `${target}.ts`)) ? `${target}.ts` : path.join(target, 'index.ts'));
    }
  }
  return out;
}

describe('ClickHouseSource memory', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  beforeAll(async () => {
    ctx = await createTestClickHouse('src_memory');
  });
  afterAll(() => ctx.drop());

  it('streams a 2,000,000-row run with peak RSS under 300 MB', async () => {
    const start = new Date('2024-05-01T00:00:00Z');
    // 2M events, 1 ms apart (33 minutes), generated inside ClickHouse.
    await insertBulkEvents(ctx.client, { database: ctx.database }, { seed: 7, count: 2_000_000, start, stepMicros: 1000, paddingBytes: 32 });
    const env = {
      ...process.env,
      SOURCE_ROOT: compileSource(),
      CH_URL: clickHouseUrl(),
      CH_DATABASE: ctx.database,
      TEAM_ID: '1',
      START: '2024-05-01T00:00:00Z',
      END: '2024-05-02T00:00:00Z',
    };
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [path.join(__dirname, 'support/stream-child.js')], { env, cwd: ROOT, maxBuffer: 1 << 20 }, (err, out, errOut) =>
        err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
      ),
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { rows: number; peakRssMb: number; rowsPerSecond: number };
    console.log(`memory test: ${JSON.stringify(result)}`);
    expect(result.rows).toBe(2_000_000);
    expect(result.peakRssMb).toBeLessThan(300);
  }, 600_000);
});
