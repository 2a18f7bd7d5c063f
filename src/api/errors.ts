/**
 * The API's error vocabulary. Every error a client sees carries `extensions.code`; input errors also carry
 * `extensions.field` (the argument or input path, e.g. `input.timezone` or `config.bucket`). Anything else is an
 * internal error: logged with its stack, answered as INTERNAL_SERVER_ERROR without details.
 */
import { findSourceError } from '../sdk/classify';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'TOO_MANY_REQUESTS' | 'INTERNAL_SERVER_ERROR';

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401 };

export function apiError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, { extensions: { code, ...extra, ...(status ? { http: { status } } : {}) } });
}

export const unauthenticated = (message = 'A valid API token is required: send `Authorization: Bearer op_...`') =>
  apiError('UNAUTHENTICATED', message);

export const forbidden = (message = "This API token lacks the 'write' scope") => apiError('FORBIDDEN', message);

/** Same answer whether the object does not exist or belongs to another team: ids of other teams are not leaked. */
export const notFound = (what: string, id: string) => apiError('NOT_FOUND', `${what} ${JSON.stringify(id)} not found`);

export const badInput = (field: string, message: string) =>
  apiError('BAD_USER_INPUT', `${field}: ${message}`, { field });

export const tooManyRequests = (message: string) => apiError('TOO_MANY_REQUESTS', message);

const KNOWN_CODES = new Set<string>(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'TOO_MANY_REQUESTS', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE']);

interface ValidationIssue {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationIssue[];
}

function firstValidationIssue(issues: ValidationIssue[], prefix = ''): { field: string; message: string } | undefined {
  for (const issue of issues) {
    const field = prefix ? `${prefix}.${issue.property}` : issue.property;
    if (issue.constraints && Object.keys(issue.constraints).length) return { field, message: Object.values(issue.constraints).join('; ') };
    const nested = firstValidationIssue(issue.children ?? [], field);
    if (nested) return nested;
  }
  return undefined;
}

/**
 * Shapes every error before it leaves the server: no stack traces, no internal messages, class-validator
 * failures turned into BAD_USER_INPUT with the offending field.
 */
export function formatApiError(formatted: GraphQLFormattedError, error: unknown, log: (err: unknown) => void): GraphQLFormattedError {
  try {
    return shapeError(formatted, error, log);
  } catch (err) {
    log(err);
    return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
}

function shapeError(formatted: GraphQLFormattedError, error: unknown, log: (err: unknown) => void): GraphQLFormattedError {
  const original = (error as { originalError?: unknown })?.originalError ?? error;
  const ext = (formatted.extensions ?? {}) as Record<string, unknown>;
  const code = String(ext.code ?? '');
  const { locations, path } = formatted;

  const validationErrors: unknown = (original as { extensions?: { validationErrors?: unknown } })?.extensions?.validationErrors
    ?? ext.validationErrors;
  // type-graphql puts the validator's own crash in the same slot: that is ours, not the client's.
  if (validationErrors instanceof Error) {
    log(validationErrors);
    return { message: 'Internal server error', locations, path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  if (Array.isArray(validationErrors)) {
    // Only input objects carry class-validator rules, and every one is passed as the argument named `input`.
    const issue = firstValidationIssue(validationErrors as ValidationIssue[], 'input') ?? { field: 'input', message: 'invalid value' };
    return { message: `${issue.field}: ${issue.message}`, locations, path, extensions: { code: 'BAD_USER_INPUT', field: issue.field } };
  }
  if (KNOWN_CODES.has(code)) {
    const { http: _http, stacktrace: _stack, exception: _ex, ...rest } = ext;
    // graphql-js words the token limit without saying which setting it is.
    const message = /Document contains more than \d+ tokens/.test(formatted.message) ? `${formatted.message} (OUTPORT_GRAPHQL_MAX_TOKENS)` : formatted.message;
    return { message, locations, path, extensions: rest };
  }
  // Request errors Apollo raises with an HTTP status but no code (e.g. an unsupported persisted-query version).
  const raised = error instanceof GraphQLError && !error.originalError ? error : undefined;
  const raisedStatus = (raised?.extensions?.http as { status?: unknown } | undefined)?.status;
  if (raised && raised.extensions.code === undefined && typeof raisedStatus === 'number' && raisedStatus >= 400 && raisedStatus < 500) {
    return { message: formatted.message, locations, path, extensions: { code: 'BAD_REQUEST' } };
  }
  // graphql-js coercion errors (wrong enum value, bad scalar) have no code but are the client's fault.
  if (!code && !(error as { originalError?: unknown })?.originalError && /Variable|Expected|Argument|Enum|Cannot|Unknown|Field/.test(formatted.message)) {
    return { message: formatted.message, locations, path, extensions: { code: 'BAD_USER_INPUT' } };
  }
  // ClickHouse unreachable or failing: neither the client's fault nor an anonymous internal error.
  const source = findSourceError(original);
  if (source) {
    return { message: `${source.message} (ClickHouse is unreachable or failing: try again once it is back)`, locations, path, extensions: { code: 'SOURCE_UNAVAILABLE' } };
  }
  log(original);
  return { message: 'Internal server error', locations, path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
