/**
 * The embedded metadata Postgres: a generated password kept beside the data (mode 0600) and used on restart, the
 * former fixed password replaced on the first start of an existing store, and fsync on for a store that persists.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { embeddedPostgresPassword, passwordFileFor, startEmbeddedPostgres } from '../../src/store/embedded-postgres';

const connects = async (port: number, password: string) => {
  const c = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
};
const show = async (url: string, setting: string) => {
  const c = new Client(url);
  await c.connect();
  try {
    return (await c.query(`SHOW ${setting}`)).rows[0][setting];
  } finally {
    await c.end();
  }
};

describe('embedded Postgres password and durability', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-pg-password-'));
    fs.chmodSync(root, 0o755);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('generates a password at initialisation, keeps it 0600 in the data folder, uses it on restart, with fsync on', async () => {
    const dataDir = path.join(root, 'postgres');
    let pg = await startEmbeddedPostgres({ dataDir });
    try {
      const file = passwordFileFor(dataDir);
      expect(file).toBe(path.join(root, 'postgres.password'));
      expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
      expect(pg.password).toBe(fs.readFileSync(file, 'utf8').trim());
      expect(pg.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(embeddedPostgresPassword(dataDir)).toBe(pg.password);
      expect(await connects(pg.port, 'outport')).toBe(false);
      expect(await connects(pg.port, pg.password)).toBe(true);
      expect(await show(pg.url, 'fsync')).toBe('on');
    } finally {
      await pg.stop();
    }
    const first = pg.password;
    pg = await startEmbeddedPostgres({ dataDir, port: pg.port });
    try {
      expect(pg.password).toBe(first);
      expect(await connects(pg.port, first)).toBe(true);
    } finally {
      await pg.stop();
    }
  }, 60_000);

  it('replaces the former fixed password of an existing store at its first start, and keeps working after', async () => {
    const dataDir = path.join(root, 'postgres');
    // A store as earlier versions left it: password `outport`, no password file.
    let pg = await startEmbeddedPostgres({ dataDir });
    const admin = new Client(pg.url);
    await admin.connect();
    await admin.query(`ALTER USER postgres WITH PASSWORD 'outport'`);
    await admin.query('CREATE TABLE kept (v int)');
    await admin.query('INSERT INTO kept VALUES (42)');
    await admin.end();
    await pg.stop();
    fs.rmSync(passwordFileFor(dataDir));
    expect(embeddedPostgresPassword(dataDir)).toBe('outport');

    pg = await startEmbeddedPostgres({ dataDir, port: pg.port });
    try {
      expect(fs.readdirSync(root).sort()).toEqual(['postgres', 'postgres.password']); // no pending file left
      expect((fs.statSync(passwordFileFor(dataDir)).mode & 0o777).toString(8)).toBe('600');
      expect(pg.password).not.toBe('outport');
      expect(await connects(pg.port, 'outport')).toBe(false);
      expect(await connects(pg.port, pg.password)).toBe(true);
      const c = new Client(pg.url);
      await c.connect();
      expect((await c.query('SELECT v FROM kept')).rows).toEqual([{ v: 42 }]);
      await c.end();
    } finally {
      await pg.stop();
    }
    const migrated = pg.password;
    pg = await startEmbeddedPostgres({ dataDir, port: pg.port });
    try {
      expect(pg.password).toBe(migrated);
      expect(await connects(pg.port, migrated)).toBe(true);
    } finally {
      await pg.stop();
    }
  }, 60_000);

  it('a throwaway server (persistent: false, deleted on stop) runs without fsync', async () => {
    const pg = await startEmbeddedPostgres({ dataDir: path.join(root, 'pg'), persistent: false });
    try {
      expect(await show(pg.url, 'fsync')).toBe('off');
    } finally {
      await pg.stop();
    }
  }, 60_000);
});
