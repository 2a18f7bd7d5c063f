/**
 * TLS modes of the Postgres destination against a scratch embedded Postgres with ssl on and pg_hba accepting
 * only TLS connections (so a successful write proves the connection was encrypted). Certificates come from the
 * openssl CLI: a CA, and a server certificate it signed for the name `localhost` only.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import postgres from '../../plugins/postgres';
import type { PostgresConfig } from '../../plugins/postgres/config';
import { eventRows } from '../../src/sdk/conformance';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/embedded-postgres';
import { destinationFailure as failure } from '../support/pg-destination';

let server: EmbeddedPostgres;
let dir: string;
let base: PostgresConfig;
const pem = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCertificates(): void {
  for (const ca of ['ca', 'other-ca']) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '2', '-subj', `/CN=Outport test ${ca}`);
  }
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
}

/** Files the server reads must belong to the user it runs as (root runs it as `postgres`), key mode 0600. */
function installForServer(dataDir: string, name: string, content: string): void {
  const file = path.join(dataDir, name);
  fs.writeFileSync(file, content, { mode: 0o600 });
  const { uid, gid } = fs.statSync(dataDir);
  if (process.getuid?.() === 0) fs.chownSync(file, uid, gid);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-pg-tls-'));
  fs.chmodSync(dir, 0o755);
  makeCertificates();
  server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), persistent: false });
  installForServer(server.dataDir, 'server.crt', pem('server.crt'));
  installForServer(server.dataDir, 'server.key', pem('server.key'));
  const admin = new Client(server.url);
  await admin.connect();
  try {
    const hba = (await admin.query('SHOW hba_file')).rows[0].hba_file as string;
    installForServer(path.dirname(hba), path.basename(hba), 'local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n');
    await admin.query(`ALTER SYSTEM SET ssl = on`);
    await admin.query(`ALTER SYSTEM SET ssl_cert_file = 'server.crt'`);
    await admin.query(`ALTER SYSTEM SET ssl_key_file = 'server.key'`);
    await admin.query('SELECT pg_reload_conf()');
  } finally {
    await admin.end();
  }
  base = postgres.configSchema.parse({ host: '127.0.0.1', port: server.port, database: 'postgres', user: 'postgres', password: server.password, connect_timeout_seconds: 20 });
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

const interval = hourInterval(0);
const ctx = () => runContext({ model: 'events', interval });

it('a config that names no ssl_mode is encrypted: parsed as require, and it writes to a TLS-only server', async () => {
  expect(base.ssl_mode).toBe('require');
  const config = { ...base, table_name: 'events_default_tls' };
  await postgres.testConnection(config, ctx());
  expect((await postgres.write(config, ctx(), stream(toBatches(eventRows(interval, 0, 3))))).rowsLanded).toBe(3);
});

it("'disable' is refused by a TLS-only server (config error)", async () => {
  const err = await failure(postgres.testConnection({ ...base, ssl_mode: 'disable' }, ctx()));
  expect([err.kind, err.code]).toEqual(['config', 'CONNECTION_REJECTED']);
  expect(err.message).toMatch(/ssl_mode/);
});

it("'require' accepts a certificate it cannot verify and writes over TLS", async () => {
  const config = { ...base, ssl_mode: 'require' as const, table_name: 'events_require' };
  await postgres.testConnection(config, ctx());
  const result = await postgres.write(config, ctx(), stream(toBatches(eventRows(interval, 0, 10))));
  expect(result.rowsLanded).toBe(10);
});

it("'verify-ca' accepts the signing CA whatever the host name, and rejects another CA", async () => {
  await postgres.testConnection({ ...base, ssl_mode: 'verify-ca', ssl_ca_certificate: pem('ca.crt') }, ctx());
  const err = await failure(postgres.testConnection({ ...base, ssl_mode: 'verify-ca', ssl_ca_certificate: pem('other-ca.crt') }, ctx()));
  expect([err.kind, err.code]).toEqual(['config', 'TLS_CERTIFICATE']);
  expect(err.message).toMatch(/ssl_ca_certificate/);
});

it("'verify-full' also checks the host name against the certificate", async () => {
  const err = await failure(postgres.testConnection({ ...base, ssl_mode: 'verify-full', ssl_ca_certificate: pem('ca.crt') }, ctx()));
  expect([err.kind, err.code]).toEqual(['config', 'TLS_CERTIFICATE']);
  await postgres.testConnection({ ...base, host: 'localhost', ssl_mode: 'verify-full', ssl_ca_certificate: pem('ca.crt') }, ctx());
});
