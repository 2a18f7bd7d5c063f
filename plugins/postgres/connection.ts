import type { Client } from 'pg';
import { DestinationError } from '../../src/sdk';
import { connectPg } from '../../src/sdk/pgwire';
import type { PostgresConfig } from './config';
import { toDestinationError } from './errors';

export { cancelRunning } from '../../src/sdk/pgwire';

/** Connects, or throws a classified DestinationError (wrong password -> config, refused/timeout -> retryable). */
export async function connect(config: PostgresConfig, signal: AbortSignal): Promise<Client> {
  const client = await connectPg(config, signal, (err) => toDestinationError(err, `connecting to ${config.host}:${config.port}`));
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
