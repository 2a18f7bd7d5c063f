import type { ConnectionOptions } from 'node:tls';
import { Client, type ClientConfig } from 'pg';
import type { RedshiftConfig } from './config';
import { toDestinationError } from './errors';

function tlsOptions(config: RedshiftConfig): ClientConfig['ssl'] {
  const ca = config.ssl_ca_certificate;
  switch (config.ssl_mode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined } satisfies ConnectionOptions;
    case 'verify-full':
      return { rejectUnauthorized: true, ...(ca ? { ca } : {}), servername: config.host };
  }
}

export function clientConfig(config: RedshiftConfig): ClientConfig {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password,
    ssl: tlsOptions(config),
    connectionTimeoutMillis: config.connect_timeout_seconds * 1000,
    application_name: 'outport',
    keepAlive: true,
  };
}

/** Connects, or throws a classified DestinationError (wrong password -> config, refused/timeout -> retryable). */
export async function connect(config: RedshiftConfig, signal: AbortSignal): Promise<Client> {
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
    throw toDestinationError(err, `Connecting to ${config.host}:${config.port}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return client;
}

/**
 * Cancels the statement `client` is running, from a second connection (PG_CANCEL_BACKEND exists on Redshift and
 * Postgres). Best effort: closing the client afterwards also makes the server roll back.
 */
export async function cancelRunning(config: RedshiftConfig, client: Client): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  if (!pid) return;
  const side = new Client({ ...clientConfig(config), connectionTimeoutMillis: 5000 });
  side.on('error', () => undefined);
  try {
    await side.connect();
    await side.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // the caller closes the connection, which also ends the statement
  } finally {
    await side.end().catch(() => undefined);
  }
}
