import type { Client } from 'pg';
import { connectPg } from '../../src/sdk/pgwire';
import type { RedshiftConfig } from './config';
import { toDestinationError } from './errors';

export { cancelRunning } from '../../src/sdk/pgwire';

/** Connects, or throws a classified DestinationError (wrong password -> config, refused/timeout -> retryable). */
export function connect(config: RedshiftConfig, signal: AbortSignal): Promise<Client> {
  return connectPg(config, signal, (err) => toDestinationError(err, `Connecting to ${config.host}:${config.port}`));
}
