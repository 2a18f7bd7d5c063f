/** A thin promise wrapper over the official `snowflake-sdk` driver: connect, run statements, PUT, close. */
import type { Connection, ConnectionOptions } from 'snowflake-sdk';
import type { SnowflakeConfig } from './config';

export type SqlRow = Record<string, unknown>;

/** The driver logs to a file by default and probes cloud metadata endpoints on load; quiet it once. */
let driver: typeof import('snowflake-sdk') | undefined;
function loadDriver(): typeof import('snowflake-sdk') {
  if (!driver) {
    // Platform detection only feeds the driver's telemetry; it probes 169.254.169.254 from every worker otherwise.
    process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    driver = require('snowflake-sdk') as typeof import('snowflake-sdk');
    driver.configure({ logLevel: 'OFF', additionalLogToConsole: false });
  }
  return driver;
}

export function connectionOptions(config: SnowflakeConfig): ConnectionOptions {
  const options: ConnectionOptions = {
    account: config.account,
    username: config.user,
    warehouse: config.warehouse,
    database: config.database,
    schema: config.schema,
    role: config.role,
    application: 'Outport',
    // Outport retries whole runs with its own backoff; the driver's 7 login retries would stall a worker for minutes.
    sfRetryMaxLoginRetries: 1,
    timeout: 60_000,
  };
  if (config.access_url) options.accessUrl = config.access_url;
  if (config.private_key !== undefined) {
    options.authenticator = 'SNOWFLAKE_JWT';
    options.privateKey = config.private_key;
    if (config.private_key_passphrase !== undefined) options.privateKeyPass = config.private_key_passphrase;
  } else {
    options.password = config.password;
  }
  return options;
}

export class SnowflakeSession {
  private constructor(private readonly conn: Connection) {}

  static async open(config: SnowflakeConfig, signal?: AbortSignal): Promise<SnowflakeSession> {
    signal?.throwIfAborted();
    const sf = loadDriver();
    const conn = sf.createConnection(connectionOptions(config));
    await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
    return new SnowflakeSession(conn);
  }

  /** Runs one statement; an abort cancels it on the server. */
  query(sqlText: string, signal?: AbortSignal): Promise<SqlRow[]> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const stmt = this.conn.execute({
        sqlText,
        complete: (err, _stmt, rows) => {
          if (onAbort) signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve((rows ?? []) as SqlRow[]);
        },
      });
      if (signal) {
        onAbort = () => stmt.cancel(() => undefined);
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  async close(): Promise<void> {
    if (!this.conn.isUp()) return;
    await new Promise<void>((resolve) => this.conn.destroy(() => resolve()));
  }
}
