import { DestinationError, classifyCommonError, classifyHttpStatus, classifyNetworkError, isDestinationError } from '../../src/sdk';

/** What the Google SDK's ApiError carries: HTTP code (absent for failed jobs) and BigQuery's error reasons. */
interface GoogleApiErrorLike {
  code?: number;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  errorResult?: { reason?: string; message?: string };
}

const RETRYABLE_REASONS = new Set([
  'quotaExceeded', 'rateLimitExceeded', 'userRateLimitExceeded', 'jobRateLimitExceeded', 'backendError',
  'internalError', 'jobInternalError', 'timeout', 'stopped', 'jobBackendError',
]);
const QUOTA_REASONS = new Set(['quotaExceeded', 'rateLimitExceeded', 'userRateLimitExceeded', 'jobRateLimitExceeded']);
const PERMANENT_REASONS = new Set([
  'invalid', 'invalidQuery', 'duplicate', 'responseTooLarge', 'resourcesExceeded', 'notImplemented', 'tableUnavailable',
]);

/** The BigQuery reason codes of an error, most specific first (https://cloud.google.com/bigquery/docs/error-messages). */
export function bigQueryReasons(err: unknown): string[] {
  const e = err as GoogleApiErrorLike;
  const reasons = [e?.errorResult?.reason, ...(e?.errors ?? []).map((x) => x?.reason)];
  return reasons.filter((r): r is string => typeof r === 'string' && r.length > 0);
}

/**
 * Classifies failures of the Google SDK and BigQuery jobs. BigQuery reports throttling as 403 (quotaExceeded,
 * rateLimitExceeded), so reasons are looked at before HTTP statuses.
 */
export function classifyBigQueryError(err: unknown): DestinationError {
  if (isDestinationError(err)) return err;
  const network = classifyNetworkError(err);
  if (network) return network;
  const e = err as GoogleApiErrorLike & { name?: string; type?: string };
  const message = (e?.message ?? String(err)).trim();
  if (e?.name === 'AbortError') return new DestinationError('retryable', `Aborted: ${message}`, { cause: err, code: 'ABORTED' });
  for (const reason of bigQueryReasons(err)) {
    if (RETRYABLE_REASONS.has(reason)) {
      return new DestinationError('retryable', `BigQuery ${reason}: ${message}`, {
        cause: err,
        code: reason,
        // BigQuery's quotas refill per minute or per 10 seconds; waiting less mostly hits the limit again.
        retryAfterMs: QUOTA_REASONS.has(reason) ? 30_000 : undefined,
      });
    }
    if (reason === 'accessDenied' || reason === 'billingNotEnabled' || reason === 'billingTierLimitExceeded') {
      return new DestinationError(
        'config',
        `BigQuery denied access (${reason}): ${message}. Grant the service account in credentials_json the roles ` +
          'BigQuery Data Editor on the dataset and BigQuery Job User on the project.',
        { cause: err, code: reason },
      );
    }
    if (reason === 'notFound') {
      const isDataset = /\bdataset\b/i.test(message) && !/\btable\b/i.test(message);
      const isProject = /\bproject\b/i.test(message) && !isDataset && !/\btable\b/i.test(message);
      return new DestinationError(
        isDataset || isProject ? 'config' : 'permanent',
        isDataset
          ? `BigQuery dataset not found: ${message}. Check dataset_id, project_id and location; Outport does not create datasets.`
          : isProject
            ? `BigQuery project not found: ${message}. Check project_id.`
            : `BigQuery resource not found: ${message}`,
        { cause: err, code: isDataset ? 'DATASET_MISSING' : isProject ? 'PROJECT_MISSING' : 'NOT_FOUND' },
      );
    }
    if (PERMANENT_REASONS.has(reason)) {
      return new DestinationError('permanent', `BigQuery rejected the request (${reason}): ${message}`, { cause: err, code: reason });
    }
  }
  if (typeof e?.code === 'number' && e.code >= 400) {
    if (e.code === 401) {
      return new DestinationError('config', `BigQuery refused the credentials (HTTP 401): ${message}. Check credentials_json.`, {
        cause: err,
        code: 'AUTH_FAILED',
      });
    }
    return classifyHttpStatus(e.code, message, err);
  }
  // node-fetch 2 based HTTP layers (older SDK releases) report their own timeouts this way.
  if (e?.type === 'request-timeout' || /network timeout/i.test(message)) {
    return new DestinationError('retryable', `BigQuery request timed out: ${message}`, { cause: err, code: 'TIMEOUT' });
  }
  return classifyCommonError(err);
}
