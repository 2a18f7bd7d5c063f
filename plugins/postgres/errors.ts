import { DestinationError, classifyNetworkError, classifyPostgresError, findSourceError, isDestinationError } from '../../src/sdk';
import { errorMessage, pgWireMessageRule, tlsCertificateError, withWhere, type PgWireMessageCode } from '../../src/sdk/pgwire';

/** This plugin's wording of the failures node-postgres reports only by message. */
const BY_MESSAGE: Record<PgWireMessageCode, (where: string, msg: string) => string> = {
  SSL_NOT_SUPPORTED: (where) => `${where}: the server does not accept TLS connections; set ssl_mode to "disable" or enable ssl on the server.`,
  CONNECTION_REJECTED: (where, msg) =>
    `${where}: the server's pg_hba.conf refuses this connection (${msg}). Check user, database and host, and ` +
    'ssl_mode: a server that only accepts TLS needs "require" or stricter.',
  CONNECT_TIMEOUT: (where, msg) => `${where}: no answer within connect_timeout_seconds (${msg}).`,
  CONNECTION_LOST: (where, msg) => `${where}: the connection was closed (${msg}).`,
};

function classifyByMessage(err: unknown, where: string): DestinationError | undefined {
  const rule = pgWireMessageRule(err);
  if (!rule) return undefined;
  return new DestinationError(rule.kind, BY_MESSAGE[rule.code](where, errorMessage(err)), { cause: err, code: rule.code });
}

/** Classifies any failure of this plugin; `where` says what was being done, for the message. */
export function toDestinationError(err: unknown, where = 'Postgres'): DestinationError {
  if (isDestinationError(err)) return err;
  // A ClickHouse failure on the byte path stays the cause, so the host reports and retries it as a reading failure.
  const fromSource = findSourceError(err);
  if (fromSource) return new DestinationError('retryable', `${where}: ${fromSource.message}`, { cause: err });
  const classified =
    tlsCertificateError(err, where, 'server', 'Check ssl_mode and ssl_ca_certificate (use "require" to accept a self-signed certificate without verification).') ??
    // pg_hba.conf refusals carry an auth SQLSTATE, which would read as a wrong password: name them first.
    (/pg_hba\.conf/.test(errorMessage(err)) ? classifyByMessage(err, where) : undefined) ??
    classifyNetworkError(err) ??
    classifyPostgresError(err) ??
    classifyByMessage(err, where);
  if (classified) return withWhere(classified, where, err);
  // Unknown failures are retried: the host's attempt cap bounds the cost, and the cause is logged.
  return new DestinationError('retryable', `${where}: ${errorMessage(err)}`, { cause: err });
}
