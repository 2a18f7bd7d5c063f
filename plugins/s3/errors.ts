/** S3 failures, classified by error code first (S3's codes are precise), then by HTTP status. */
import { classifyCommonError, classifyNetworkError, DestinationError, isDestinationError } from '../../src/sdk';

const PERMISSIONS = 's3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket (and kms:GenerateDataKey with aws:kms encryption)';

/** Codes whose fix is a setting, with the advice shown to the user. */
const CONFIG_ADVICE: Record<string, string> = {
  NoSuchBucket: 'The bucket does not exist. Check bucket_name, region and endpoint_url.',
  NotFound: 'The bucket does not exist. Check bucket_name, region and endpoint_url.',
  InvalidBucketName: 'The bucket name is not valid. Check bucket_name.',
  InvalidAccessKeyId: 'The access key id is not known to the server. Check aws_access_key_id (and endpoint_url for S3-compatible servers).',
  SignatureDoesNotMatch: 'The secret access key does not match the access key id. Check aws_secret_access_key.',
  AuthorizationHeaderMalformed: 'The request was signed for the wrong region. Check region.',
  PermanentRedirect: 'The bucket is in another region. Check region (or endpoint_url).',
  IllegalLocationConstraintException: 'The bucket is in another region. Check region.',
  ExpiredToken: 'The credentials have expired. Update aws_access_key_id and aws_secret_access_key.',
  InvalidToken: 'The credentials are not valid. Check aws_access_key_id and aws_secret_access_key.',
  AccessDenied: `Access denied. Check the key's permissions: ${PERMISSIONS}.`,
  Forbidden: `Access denied (wrong credentials, or the key lacks permissions: ${PERMISSIONS}). Check aws_access_key_id, aws_secret_access_key and the bucket policy.`,
  AllAccessDisabled: 'All access to this bucket has been disabled. Check bucket_name.',
  'KMS.NotFoundException': 'The KMS key does not exist. Check kms_key_id and region.',
  'KMS.DisabledException': 'The KMS key is disabled. Enable it or change kms_key_id.',
  KMSAccessDenied: 'The key may not use the KMS key. Grant kms:GenerateDataKey or change kms_key_id.',
};

const RETRYABLE_CODES = new Set([
  'SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestTimeout', 'RequestTimeTooSkewed',
  'InternalError', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeoutException', 'OperationAborted',
]);

type S3Like = { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };

export function classifyS3Error(err: unknown): DestinationError {
  if (isDestinationError(err)) return err;
  const e = (err ?? {}) as S3Like;
  const code = e.Code ?? e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const message = e.message && e.message !== 'UnknownError' ? e.message : `HTTP ${status ?? '?'}`;
  const network = classifyNetworkError(err) ?? classifyNetworkError((err as { cause?: unknown })?.cause);
  if (network) return network;
  if (CONFIG_ADVICE[code]) {
    return new DestinationError('config', `S3 ${code}: ${message}. ${CONFIG_ADVICE[code]}`, { cause: err, code });
  }
  if (RETRYABLE_CODES.has(code) || e.$retryable) {
    return new DestinationError('retryable', `S3 ${code}: ${message}`, { cause: err, code });
  }
  if (status === 301) return new DestinationError('config', `S3 redirect (HTTP 301): ${message}. ${CONFIG_ADVICE.PermanentRedirect}`, { cause: err, code: code || 'HTTP_301' });
  if (status === 401 || status === 403) return new DestinationError('config', `S3 ${code || status}: ${message}. ${CONFIG_ADVICE.Forbidden}`, { cause: err, code: code || `HTTP_${status}` });
  if (typeof status === 'number' && (status >= 500 || status === 429 || status === 408)) {
    return new DestinationError('retryable', `S3 ${code || status}: ${message}`, { cause: err, code: code || `HTTP_${status}` });
  }
  if (typeof status === 'number' && status >= 400) {
    return new DestinationError('permanent', `S3 ${code || status}: ${message}`, { cause: err, code: code || `HTTP_${status}` });
  }
  return classifyCommonError(err);
}
