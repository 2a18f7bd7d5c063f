/**
 * Redshift failures. SQLSTATE classes first (shared with Postgres), then what Redshift reports only in the message
 * (most of its own errors arrive as XX000 "internal error" with a numbered message).
 */
import {
  classifyCommonError, classifyNetworkError, classifyPostgresError, DestinationError, isDestinationError,
} from '../../src/sdk';
import {
  errorMessage, PG_WIRE_MESSAGE_RULES, tlsCertificateError, withWhere, type PgWireMessageCode,
} from '../../src/sdk/pgwire';

/** Advice appended to the Postgres-wire connection failures known only by message. */
const PG_WIRE_ADVICE: Partial<Record<PgWireMessageCode, string>> = {
  SSL_NOT_SUPPORTED: 'Set ssl_mode to "disable" or enable TLS on the server.',
  CONNECTION_REJECTED: 'Check user, database, host and ssl_mode.',
};

/** Message patterns Redshift uses, with the kind and a short code. Checked before the SQLSTATE. */
const MESSAGE_RULES: { pattern: RegExp; kind: DestinationError['kind']; code: string; advice?: string }[] = [
  // 1023: two transactions wrote the same table; the loser is rolled back and may simply run again.
  { pattern: /Serializable isolation violation|\b1023\b.*isolation/i, kind: 'retryable', code: 'SERIALIZATION_1023' },
  // Disk Full: other loads and vacuums free space, and a resize may be under way; the attempt cap bounds retries.
  { pattern: /Disk Full/i, kind: 'retryable', code: 'DISK_FULL', advice: 'The cluster is out of disk space; free space or resize it.' },
  { pattern: /cluster is (?:currently )?(?:paused|resizing|being resized|in maintenance)|Cluster .*(?:paused|unavailable)/i, kind: 'retryable', code: 'CLUSTER_UNAVAILABLE' },
  { pattern: /connection limit .* exceeded|too many connections/i, kind: 'retryable', code: 'TOO_MANY_CONNECTIONS' },
  { pattern: /S3ServiceException.*(?:Access Denied|AccessDenied|Forbidden)|not authorized to assume IAM Role|Not authorized to get credentials of role/i, kind: 'config', code: 'COPY_S3_ACCESS', advice: 'COPY could not read the staged files: check iam_role (attached to the cluster, allowed s3:GetObject and s3:ListBucket on s3_bucket) or the access keys.' },
  { pattern: /S3ServiceException.*(?:NoSuchBucket|bucket does not exist)|The specified bucket does not exist/i, kind: 'config', code: 'COPY_BUCKET_MISSING', advice: 'Check s3_bucket and s3_region.' },
  { pattern: /S3ServiceException.*(?:SlowDown|InternalError|ServiceUnavailable)/i, kind: 'retryable', code: 'COPY_S3_TRANSIENT' },
  { pattern: /stl_load_errors/i, kind: 'permanent', code: 'COPY_LOAD_ERROR' },
  ...PG_WIRE_MESSAGE_RULES.map((r) => ({ ...r, advice: PG_WIRE_ADVICE[r.code] })),
];

function byMessage(err: unknown, where: string): DestinationError | undefined {
  const msg = errorMessage(err);
  const rule = MESSAGE_RULES.find((r) => r.pattern.test(msg));
  if (!rule) return undefined;
  return new DestinationError(rule.kind, `${where}: ${msg}${rule.advice ? ` ${rule.advice}` : ''}`, { cause: err, code: rule.code });
}

/** Errors of Outport's own uploads (copy mode), by the S3 error name. */
function byS3Name(err: unknown, where: string): DestinationError | undefined {
  const name = (err as { name?: string })?.name ?? '';
  const msg = errorMessage(err);
  if (name === 'NoSuchBucket') return new DestinationError('config', `${where}: S3 bucket not found (${msg}). Check s3_bucket, s3_region and s3_endpoint_url.`, { cause: err, code: name });
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'ExpiredToken'].includes(name)) {
    return new DestinationError('config', `${where}: S3 refused the upload (${name}: ${msg}). Check aws_access_key_id, aws_secret_access_key and the bucket policy.`, { cause: err, code: name });
  }
  return undefined;
}

/** Classifies any failure of this plugin; `where` says what was being done, for the message. */
export function toDestinationError(err: unknown, where = 'Redshift'): DestinationError {
  if (isDestinationError(err)) return err;
  const classified =
    tlsCertificateError(err, where, 'cluster') ??
    byS3Name(err, where) ??
    byMessage(err, where) ??
    classifyNetworkError(err) ??
    classifyNetworkError((err as { cause?: unknown })?.cause) ??
    classifyPostgresError(err) ??
    classifyCommonError(err);
  return withWhere(classified, where, err);
}

/** A COPY that failed on the data: permanent, with the first stl_load_errors row in the message. */
export function loadError(
  cause: unknown,
  first: { reason?: string; column_name?: string; line_number?: number | string; filename?: string } | undefined,
): DestinationError {
  const detail = first
    ? `first load error: ${first.reason} (column ${first.column_name || '?'}, line ${first.line_number ?? '?'} of ${first.filename || '?'})`
    : errorMessage(cause);
  return new DestinationError('permanent', `Redshift COPY rejected the staged data: ${detail}`, { cause, code: 'COPY_LOAD_ERROR' });
}
