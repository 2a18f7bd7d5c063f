import type { ConnectionOptions } from 'node:tls';
import { Client, type ClientConfig } from 'pg';
import { DestinationError } from '../../src/sdk';
import type { PostgresConfig } from './config';
import { toDestinationError } from './errors';

function tlsOptions(config: PostgresConfig): ClientConfig['ssl'] {
  const ca = config.ssl_ca_certificate;
  switch (config.ssl_mode) {
    case 'disable':
      return false;
    case 'require':
      // libpq semantics: encrypt, but accept any certificate (self-signed included).
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // Chain must lead to the given CA; the host name is not compared (that is verify-full).
      return { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined } satisfies ConnectionOptions;
    case 'verify-full':
      return { rejectUnauthorized: true, ...(ca ? { ca } : {}), servername: config.host };
  }
}

export function clientConfig(config: PostgresConfig): ClientConfig {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password,
    ssl: tlsOptions(config),
    connectionTimeoutMillis: config.connect_timeout_seconds * 1000,
    application_name: 'outport',
    // Timestamps and bigints are only ever read as text by this plugin; no type parsing surprises.
    keepAlive: true,
  };
}

/** Connects, or throws a classified DestinationError (wrong password -> config, refused/timeout -> retryable). */
export async function connect(config: PostgresConfig, signal: AbortSignal): Promise<Client> {
  signal.throwIfAborted();
  const client = new Client(clientConfig(config));
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  const onAbort = () => void client.end().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw toDestinationError(err, `connecting to ${config.host}:${config.port}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  await requireUtf8(client);
  return client;
}

/** Non-UTF8 databases cannot hold emoji and most of the world's text: refuse rather than mangle. */
async function requireUtf8(client: Client): Promise<void> {
  const { rows } = await client.query<{ server_encoding: string }>('SHOW server_encoding');
  const encoding = rows[0]?.server_encoding;
  if (encoding !== 'UTF8') {
    await client.end().catch(() => undefined);
    throw new DestinationError(
      'config',
      `The database encoding is ${encoding}; Outport writes Unicode text and needs a UTF8 database (CREATE DATABASE ... ENCODING 'UTF8').`,
      { code: 'DATABASE_NOT_UTF8' },
    );
  }
}

/**
 * Cancels the statement `client` is running, from a second connection (pg_cancel_backend works for one's own
 * sessions without superuser). Best effort: if it fails, closing the client still makes the server roll back.
 */
export async function cancelRunning(config: PostgresConfig, client: Client): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  if (!pid) return;
  const side = new Client({ ...clientConfig(config), connectionTimeoutMillis: 5000 });
  side.on('error', () => undefined);
  try {
    await side.connect();
    await side.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // fall through: the caller closes the connection, which also ends the statement
  } finally {
    await side.end().catch(() => undefined);
  }
}
