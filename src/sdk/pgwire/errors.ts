/**
 * Failures node-postgres reports without a SQLSTATE: TLS certificate errors (by Node's code) and a few connection
 * failures known only by their message. Each destination words the message; the kind and code are shared.
 */
import { DestinationError } from '../destination';

export const TLS_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A config error when the server's certificate was rejected, else undefined. `peer` names the server in the
 * message ('server', 'cluster'); `advice` says which settings to check.
 */
export function tlsCertificateError(
  err: unknown,
  where: string,
  peer: string,
  advice = 'Check ssl_mode and ssl_ca_certificate.',
): DestinationError | undefined {
  const code = (err as { code?: string })?.code;
  if (!code || !TLS_CERTIFICATE_CODES.has(code)) return undefined;
  return new DestinationError('config', `${where}: the ${peer}'s TLS certificate was rejected (${code}: ${errorMessage(err)}). ${advice}`, {
    cause: err,
    code: 'TLS_CERTIFICATE',
  });
}

export type PgWireMessageCode = 'SSL_NOT_SUPPORTED' | 'CONNECTION_REJECTED' | 'CONNECT_TIMEOUT' | 'CONNECTION_LOST';

export interface PgWireMessageRule {
  pattern: RegExp;
  kind: DestinationError['kind'];
  code: PgWireMessageCode;
}

/** Connection failures node-postgres reports only by message, in the order they are tried. */
export const PG_WIRE_MESSAGE_RULES: readonly PgWireMessageRule[] = [
  { pattern: /server does not support SSL/i, kind: 'config', code: 'SSL_NOT_SUPPORTED' },
  // pg_hba.conf refusals carry SQLSTATE 28000, which alone would read as a wrong password.
  { pattern: /pg_hba\.conf/, kind: 'config', code: 'CONNECTION_REJECTED' },
  { pattern: /connection timeout|timeout expired/i, kind: 'retryable', code: 'CONNECT_TIMEOUT' },
  { pattern: /Connection terminated/i, kind: 'retryable', code: 'CONNECTION_LOST' },
];

/** The first rule of `PG_WIRE_MESSAGE_RULES` that matches the error's message. */
export function pgWireMessageRule(err: unknown): PgWireMessageRule | undefined {
  const msg = errorMessage(err);
  return PG_WIRE_MESSAGE_RULES.find((r) => r.pattern.test(msg));
}

/** `classified`, its message led by `where` (what was being done) unless it already is. */
export function withWhere(classified: DestinationError, where: string, cause: unknown): DestinationError {
  if (classified.message.startsWith(where)) return classified;
  return new DestinationError(classified.kind, `${where}: ${classified.message}`, {
    cause,
    code: classified.code,
    retryAfterMs: classified.retryAfterMs,
  });
}

/**
 * True when a CREATE lost a race with another session creating the same object: `IF NOT EXISTS` does not protect
 * two concurrent creators, and the loser sees a catalog unique violation (23505), "type already exists" (42710) or
 * "relation already exists" (42P07), depending on timing. The object exists now.
 */
export function lostCreateRace(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === '23505' || code === '42710' || code === '42P07';
}
