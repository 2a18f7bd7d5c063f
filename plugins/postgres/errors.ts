import { DestinationError, classifyNetworkError, classifyPostgresError, isDestinationError } from '../../src/sdk';

const TLS_CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** node-postgres reports some failures only by message (no code). */
function classifyByMessage(err: unknown, where: string): DestinationError | undefined {
  const msg = messageOf(err);
  if (/server does not support SSL/i.test(msg)) {
    return new DestinationError('config', `${where}: the server does not accept TLS connections; set ssl_mode to "disable" or enable ssl on the server.`, { cause: err, code: 'SSL_NOT_SUPPORTED' });
  }
  if (/pg_hba\.conf/.test(msg)) {
    return new DestinationError(
      'config',
      `${where}: the server's pg_hba.conf refuses this connection (${msg}). Check user, database and host, and ` +
        'ssl_mode: a server that only accepts TLS needs "require" or stricter.',
      { cause: err, code: 'CONNECTION_REJECTED' },
    );
  }
  if (/connection timeout|timeout expired/i.test(msg)) {
    return new DestinationError('retryable', `${where}: no answer within connect_timeout_seconds (${msg}).`, { cause: err, code: 'CONNECT_TIMEOUT' });
  }
  if (/Connection terminated/i.test(msg)) {
    return new DestinationError('retryable', `${where}: the connection was closed (${msg}).`, { cause: err, code: 'CONNECTION_LOST' });
  }
  return undefined;
}

function classifyTls(err: unknown, where: string): DestinationError | undefined {
  const code = (err as { code?: string })?.code;
  if (!code || !TLS_CERT_CODES.has(code)) return undefined;
  return new DestinationError(
    'config',
    `${where}: the server's TLS certificate was rejected (${code}: ${messageOf(err)}). Check ssl_mode and ssl_ca_certificate ` +
      '(use "require" to accept a self-signed certificate without verification).',
    { cause: err, code: 'TLS_CERTIFICATE' },
  );
}

/** Classifies any failure of this plugin; `where` says what was being done, for the message. */
export function toDestinationError(err: unknown, where = 'Postgres'): DestinationError {
  if (isDestinationError(err)) return err;
  const classified =
    classifyTls(err, where) ??
    (/pg_hba\.conf/.test(messageOf(err)) ? classifyByMessage(err, where) : undefined) ??
    classifyNetworkError(err) ??
    classifyPostgresError(err) ??
    classifyByMessage(err, where);
  if (classified) {
    if (classified.message.startsWith(where)) return classified;
    return new DestinationError(classified.kind, `${where}: ${classified.message}`, {
      cause: err,
      code: classified.code,
      retryAfterMs: classified.retryAfterMs,
    });
  }
  // Unknown failures are retried: the host's attempt cap bounds the cost, and the cause is logged.
  return new DestinationError('retryable', `${where}: ${messageOf(err)}`, { cause: err });
}
