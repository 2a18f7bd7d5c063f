/**
 * Helpers that classify common failures, so a plugin does not have to treat everything as retryable.
 * Each returns a `DestinationError`; pass the original error as `cause`.
 */
import { DestinationError, isDestinationError } from './destination';

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'ENOTFOUND', 'ESOCKETTIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Node/undici network errors: retryable (ENOTFOUND too: DNS hiccups are common; a typo shows in testConnection). */
export function classifyNetworkError(err: unknown): DestinationError | undefined {
  const code = (err as { code?: string })?.code;
  if (code && NETWORK_CODES.has(code)) {
    return new DestinationError('retryable', `Network error (${code}): ${messageOf(err)}`, { cause: err, code });
  }
  return undefined;
}

/** HTTP statuses: 408/429/5xx retryable; 401/403 config; other 4xx permanent. */
export function classifyHttpStatus(status: number, message: string, cause?: unknown, retryAfterMs?: number): DestinationError {
  if (status === 408 || status === 429 || status >= 500) {
    return new DestinationError('retryable', `HTTP ${status}: ${message}`, { cause, retryAfterMs, code: `HTTP_${status}` });
  }
  if (status === 401 || status === 403) {
    return new DestinationError('config', `Access denied (HTTP ${status}): ${message}. Check the credentials and their permissions.`, { cause, code: `HTTP_${status}` });
  }
  return new DestinationError('permanent', `HTTP ${status}: ${message}`, { cause, code: `HTTP_${status}` });
}

/**
 * Postgres SQLSTATE classes: 08 (connection), 40 (serialization/deadlock), 53 (resources), 57P0x (shutdown) and
 * 55P03 (lock not available) are retryable; 28 (auth) and 3D000 (no database) are config; the rest permanent.
 */
export function classifyPostgresError(err: unknown): DestinationError | undefined {
  const code = (err as { code?: string })?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  const msg = messageOf(err);
  const cls = code.slice(0, 2);
  if (cls === '08' || cls === '40' || cls === '53' || code.startsWith('57P0') || code === '55P03' || code === '57014') {
    return new DestinationError('retryable', `Postgres ${code}: ${msg}`, { cause: err, code });
  }
  if (cls === '28') return new DestinationError('config', `Authentication failed (${code}): ${msg}. Check user and password.`, { cause: err, code });
  if (code === '3D000') return new DestinationError('config', `Database does not exist (${code}): ${msg}`, { cause: err, code });
  if (code === '3F000') return new DestinationError('config', `Schema does not exist (${code}): ${msg}`, { cause: err, code });
  if (code === '22001') {
    // A table made by another tool (PostHog's VARCHAR(200)): Outport never cuts a value to make it fit.
    return new DestinationError('permanent', `Postgres ${code}: ${msg}. A value is longer than its table column allows, and Outport never cuts values: widen the column (for example ALTER TABLE <table> ALTER COLUMN <column> TYPE TEXT, which rewrites nothing on Postgres), then retry the run.`, { cause: err, code });
  }
  if (code === '42501') return new DestinationError('permanent', `Permission denied (${code}): ${msg}. Grant the user the privileges listed in the destination's docs.`, { cause: err, code });
  return new DestinationError('permanent', `Postgres ${code}: ${msg}`, { cause: err, code });
}

/** The default classifier: DestinationErrors pass through, network and SQLSTATE errors are classified, the rest retryable. */
export function classifyCommonError(err: unknown): DestinationError {
  if (isDestinationError(err)) return err;
  const status = (err as { status?: number; statusCode?: number; $metadata?: { httpStatusCode?: number } });
  const http = status?.$metadata?.httpStatusCode ?? status?.statusCode ?? status?.status;
  return (
    classifyNetworkError(err) ??
    classifyPostgresError(err) ??
    (typeof http === 'number' && http >= 400 ? classifyHttpStatus(http, messageOf(err), err) : undefined) ??
    // Unknown failures are retried: the host's attempt cap bounds the cost, and a bug shows in the logs.
    new DestinationError('retryable', messageOf(err), { cause: err })
  );
}

/**
 * Marks an error raised while READING the source (ClickHouse), not writing the destination. The host wraps what
 * the source stream throws in one before the plugin sees it, so a plugin that wraps or rethrows it (keeping it as
 * `cause`) still lets the host say which side failed. Recognised by `name`, so it works across module copies.
 */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

export function isSourceError(err: unknown): err is SourceError {
  return typeof err === 'object' && err !== null && (err as Error).name === 'SourceError';
}

/** The SourceError in `err`'s cause chain, if any (bounded: cause chains can be cyclic). */
export function findSourceError(err: unknown): SourceError | undefined {
  for (let e = err, depth = 0; e && depth < 20; e = (e as { cause?: unknown }).cause, depth++) {
    if (isSourceError(e)) return e;
  }
  return undefined;
}
