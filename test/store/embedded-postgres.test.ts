/**
 * The embedded metadata store's data directory: as root, Postgres runs as the `postgres` user, which must be able to
 * enter every parent of its data directory. A clone under root's 0700 home cannot be entered, so the data goes
 * elsewhere; these tests pin down that doing so never touches a directory Outport did not create, never lets two
 * installations share one store, and that a failed start says why.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { resolveDataDir, startEmbeddedPostgres } from '../../src/store/embedded-postgres';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const rootOnly = isRoot ? it : it.skip;

describe('embedded Postgres data directory', () => {
  let base: string;
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-epg-'));
    fs.chmodSync(base, 0o755);
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('keeps the wanted directory when the postgres user can reach it', () => {
    const wanted = path.join(base, 'data', 'postgres');
    expect(resolveDataDir(wanted)).toBe(wanted);
  });

  rootOnly('relocates a directory under a 0700 parent without changing any directory it did not create', () => {
    const privateHome = path.join(base, 'home');
    fs.mkdirSync(privateHome, { mode: 0o700 });
    fs.chmodSync(privateHome, 0o700);
    const relocationRoot = path.join(base, 'relocated');
    const tmpModeBefore = fs.statSync(os.tmpdir()).mode;
    const dir = resolveDataDir(path.join(privateHome, 'clone', '.outport', 'postgres'), { relocationRoot });
    expect(dir.startsWith(relocationRoot + path.sep)).toBe(true);
    expect(fs.statSync(os.tmpdir()).mode).toBe(tmpModeBefore);
    expect(fs.statSync(privateHome).mode & 0o777).toBe(0o700);
  });

  rootOnly('gives two installations whose paths share an ending two different stores', () => {
    const a = path.join(base, 'a');
    const b = path.join(base, 'b');
    for (const d of [a, b]) {
      fs.mkdirSync(d);
      fs.chmodSync(d, 0o700);
    }
    const relocationRoot = path.join(base, 'relocated');
    const suffix = path.join('projects', 'outport', '.outport', 'postgres');
    const first = resolveDataDir(path.join(a, suffix), { relocationRoot });
    const second = resolveDataDir(path.join(b, suffix), { relocationRoot });
    expect(first).not.toBe(second);
    // and the same installation finds its store again
    expect(resolveDataDir(path.join(a, suffix), { relocationRoot })).toBe(first);
  });

  rootOnly('refuses to reuse a relocated store that belongs to another installation', () => {
    fs.mkdirSync(path.join(base, 'a'));
    fs.chmodSync(path.join(base, 'a'), 0o700);
    const relocationRoot = path.join(base, 'relocated');
    const wanted = path.join(base, 'a', 'postgres');
    const dir = resolveDataDir(wanted, { relocationRoot });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, '..', path.basename(dir) + '.owner'), '/somewhere/else/postgres\n');
    expect(() => resolveDataDir(wanted, { relocationRoot })).toThrow(/belongs to \/somewhere\/else\/postgres/);
  });

  it('says why when the server cannot start', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const err = await startEmbeddedPostgres({ dataDir: path.join(base, 'pg'), port, persistent: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/embedded Postgres/);
      expect((err as Error).message).toMatch(/already in use|could not (bind|create)/i);
    } finally {
      blocker.close();
    }
  }, 60_000);
});
