/** Connections to Postgres-wire servers with node-postgres: TLS modes with libpq's meaning, abort, cancel. */
import type { ConnectionOptions } from 'node:tls';
import { Client, type ClientConfig } from 'pg';
import type { DestinationError } from '../destination';
import type { PgWireConnection } from './config';

/** node-postgres `ssl` options for an ssl_mode, as libpq reads the same mode. */
export function pgTlsOptions(config: Pick<PgWireConnection, 'host' | 'ssl_mode' | 'ssl_ca_certificate'>): ClientConfig['ssl'] {
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

export function pgClientConfig(config: PgWireConnection): ClientConfig {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password,
    ssl: pgTlsOptions(config),
    connectionTimeoutMillis: config.connect_timeout_seconds * 1000,
    application_name: 'outport',
    keepAlive: true,
  };
}

/**
 * Connects, or throws what `classify` makes of the failure. An abort of `signal` while connecting closes the
 * client, so the attempt ends at once.
 */
export async function connectPg(
  config: PgWireConnection,
  signal: AbortSignal,
  classify: (err: unknown) => DestinationError,
): Promise<Client> {
  signal.throwIfAborted();
  const client = new Client(pgClientConfig(config));
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  const onAbort = () => void client.end().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw classify(err);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return client;
}

/**
 * Cancels the statement `client` is running, from a second connection (pg_cancel_backend works for one's own
 * sessions without superuser, on Postgres and Redshift). Best effort: if it fails, closing the client still makes
 * the server roll back.
 */
export async function cancelRunning(config: PgWireConnection, client: Client): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  if (!pid) return;
  const side = new Client({ ...pgClientConfig(config), connectionTimeoutMillis: 5000 });
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

/** SQLSTATE of a statement cancelled by `cancelRunning` (query_canceled). */
export const QUERY_CANCELED = '57014';

/**
 * Runs `step`, and once more if it failed as cancelled: a cancel request that arrived after the statement it
 * was meant for hits the next one.
 */
export async function retryAfterLateCancel<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if ((err as { code?: string }).code !== QUERY_CANCELED) throw err;
    return step();
  }
}
