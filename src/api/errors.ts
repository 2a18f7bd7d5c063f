/**
 * The API's error vocabulary. Every error a client sees carries `extensions.code`; input errors also carry
 * `extensions.field` (the argument or input path, e.g. `input.timezone` or `input.config.bucket`), one error per bad
 * field. Anything else is an internal error: logged with its stack, answered as INTERNAL_SERVER_ERROR without details.
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

/** Extension key of the issues badInputs carries; never sent as is. */
const FIELD_ISSUES = 'fieldIssues';

export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * Several bad fields at once: one GraphQL error each reaches the client (expandFieldErrors), so a form can mark
 * every field; a resolver can throw only one error, which carries the list until the response is shaped.
 */
export function badInputs(issues: FieldIssue[]): GraphQLError {
  if (issues.length === 1) return badInput(issues[0].field, issues[0].message);
  return apiError('BAD_USER_INPUT', issues.map((i) => `${i.field}: ${i.message}`).join('; '), { field: issues[0].field, [FIELD_ISSUES]: issues });
}

/** Formatted errors with each multi-field error replaced by one error per field (same path and locations). */
export function expandFieldErrors(errors: readonly GraphQLFormattedError[]): GraphQLFormattedError[] {
  return errors.flatMap((e) => {
    const issues = e.extensions?.[FIELD_ISSUES] as FieldIssue[] | undefined;
    if (!Array.isArray(issues)) return [e];
    const { [FIELD_ISSUES]: _issues, field: _field, ...rest } = e.extensions ?? {};
    return issues.map((i) => ({ ...e, message: `${i.field}: ${i.message}`, extensions: { ...rest, field: i.field } }));
  });
}

/**
 * Arguments that became fields of a mutation's `input`: BAD_USER_INPUT errors raised by shared service code
 * with the bare name (`startAt`) are reported at their place in the request (`input.startAt`).
 */
export async function underInput<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof GraphQLError) || err.extensions.code !== 'BAD_USER_INPUT') throw err;
    const prefix = (field: string) => (field === 'input' || field.startsWith('input.') ? field : `input.${field}`);
    const issues = err.extensions[FIELD_ISSUES] as FieldIssue[] | undefined;
    if (issues) throw badInputs(issues.map((i) => ({ ...i, field: prefix(i.field) })));
    const field = typeof err.extensions.field === 'string' ? err.extensions.field : undefined;
    if (!field) throw err;
    const message = err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
    throw badInput(prefix(field), message);
  }
}

export const tooManyRequests = (message: string) => apiError('TOO_MANY_REQUESTS', message);

const KNOWN_CODES = new Set<string>(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'TOO_MANY_REQUESTS', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE']);

interface ValidationIssue {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationIssue[];
}

function validationIssues(issues: ValidationIssue[], prefix = ''): FieldIssue[] {
  return issues.flatMap((issue) => {
    const field = prefix ? `${prefix}.${issue.property}` : issue.property;
    const own = issue.constraints && Object.keys(issue.constraints).length ? [{ field, message: Object.values(issue.constraints).join('; ') }] : [];
    return [...own, ...validationIssues(issue.children ?? [], field)];
  });
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
    const issues = validationIssues(validationErrors as ValidationIssue[], 'input');
    const [first] = issues.length ? issues : [{ field: 'input', message: 'invalid value' }];
    const extensions = { code: 'BAD_USER_INPUT', field: first.field, ...(issues.length > 1 ? { [FIELD_ISSUES]: issues } : {}) };
    return { message: `${first.field}: ${first.message}`, locations, path, extensions };
  }
  if (KNOWN_CODES.has(code)) {
    const { http: _http, stacktrace: _stack, exception: _ex, ...rest } = ext;
    if (code === 'BAD_USER_INPUT' && rest.field === undefined) {
      const field = coercionField(formatted.message);
      if (field) rest.field = field;
    }
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
    const field = coercionField(formatted.message);
    return { message: formatted.message, locations, path, extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) } };
  }
  // ClickHouse unreachable or failing: neither the client's fault nor an anonymous internal error.
  const source = findSourceError(original);
  if (source) {
    return { message: `${source.message} (ClickHouse is unreachable or failing: try again once it is back)`, locations, path, extensions: { code: 'SOURCE_UNAVAILABLE' } };
  }
  log(original);
  return { message: 'Internal server error', locations, path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/**
 * The bad field of a variable graphql-js could not coerce, in the API's path notation: `Variable "$input" got
 * invalid value "x" at "input.filters[0].operator"` names `input.filters.0.operator`.
 */
function coercionField(message: string): string | undefined {
  const variable = /^Variable "\$(\w+)" got invalid value /.exec(message);
  if (!variable) return undefined;
  const at = / at "([^"]+)"; /.exec(message);
  return (at?.[1] ?? variable[1]).replace(/\[(\d+)\]/g, '.$1');
}
