/**
 * What stands between a client's bytes and the resolvers: HTTP body errors answered as GraphQL-shaped JSON, and
 * per-request checks (subscriptions only over WebSocket, no NUL characters, the work limits of query-limits.ts)
 * applied the same way over HTTP (Apollo plugin) and WebSocket (graphql-ws onSubscribe).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  GraphQLError,
  getOperationAST,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { Logger } from '../logger';
import { badInput, expandFieldErrors } from './errors';
import { checkQueryLimits, findNulCharacter, type QueryLimits } from './query-limits';

const requestError = (message: string, status = 400, code = 'BAD_REQUEST') =>
  new GraphQLError(message, { extensions: { code, http: { status } } });

/** The checks every operation passes before it runs, whatever the transport. */
export function operationProblem(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined | null,
  limits: QueryLimits,
  transport: 'http' | 'ws',
): GraphQLError | undefined {
  if (transport === 'http' && operation.operation === 'subscription') {
    return requestError('Subscriptions are served over WebSocket (graphql-ws protocol) at this same URL, not over HTTP POST/GET');
  }
  const nulAt = findNulCharacter(document, variables);
  if (nulAt) {
    const err = badInput(nulAt, 'must not contain the NUL character (\\u0000)');
    Object.assign(err.extensions, { http: { status: 400 } });
    return err;
  }
  return checkQueryLimits(schema, document, operation, variables, limits);
}

/** HTTP status for a response in which nothing resolved: the first error's code decides. */
const STATUS_OF_CODE: Record<string, number> = {
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TOO_MANY_REQUESTS: 429,
};

export function requestGuardsPlugin(schema: GraphQLSchema, limits: QueryLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          const problem = operation && operationProblem(schema, document, operation, request.variables, limits, 'http');
          if (problem) throw problem;
        },
        async willSendResponse({ response }) {
          // A request that produced no data at all is the client's failure: say so in the status too. Partial
          // results keep 200, as GraphQL over HTTP expects.
          if (response.body.kind !== 'single') return;
          if (response.body.singleResult.errors) response.body.singleResult.errors = expandFieldErrors(response.body.singleResult.errors);
          const { data, errors } = response.body.singleResult;
          if (!errors?.length || (response.http.status !== undefined && response.http.status !== 200)) return;
          const nothingResolved = data === null || data === undefined || Object.values(data).every((v) => v === null);
          const status = STATUS_OF_CODE[String(errors[0].extensions?.code)];
          if (nothingResolved && status) response.http.status = status;
        },
      };
    },
  };
}

/**
 * graphql-ws onSubscribe: parses with the token limit, validates, applies operationProblem, and returns the
 * execution arguments (or the errors to send back).
 */
export function prepareWsOperation(
  schema: GraphQLSchema,
  limits: QueryLimits,
  payload: { query?: unknown; operationName?: unknown; variables?: unknown },
): ExecutionArgs | GraphQLError[] {
  if (typeof payload.query !== 'string') return [requestError('The subscribe message needs a `query` string')];
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: limits.maxTokens });
  } catch (err) {
    return [requestError(err instanceof GraphQLError ? err.message : 'The query could not be parsed', 400, 'GRAPHQL_PARSE_FAILED')];
  }
  const invalid = validate(schema, document);
  if (invalid.length) return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
  const operationName = typeof payload.operationName === 'string' ? payload.operationName : undefined;
  const operation = getOperationAST(document, operationName);
  if (!operation) return [requestError('Unable to identify the operation: give operationName when the document has several')];
  const variables = payload.variables && typeof payload.variables === 'object' ? (payload.variables as Record<string, unknown>) : undefined;
  const problem = operationProblem(schema, document, operation, variables, limits, 'ws');
  if (problem) return [problem];
  return { schema, document, operationName, variableValues: variables };
}

const errorBody = (message: string, code: string) => ({ errors: [{ message, extensions: { code } }] });

/** Only `/graphql` itself is an endpoint; anything below it answers 404 in the API's error shape. */
export const graphqlPathOnly: RequestHandler = (req, res, next) => {
  if (req.path === '/' || req.path === '') return next();
  res.status(404).json(errorBody(`No such endpoint: the GraphQL API is served at /graphql only`, 'NOT_FOUND'));
};

const BODY_ERRORS: Record<string, string> = {
  'entity.parse.failed': 'The request body is not valid JSON: send a JSON object such as {"query": "{ team { id } }", "variables": {}}',
  'entity.too.large': 'The request body is too large',
  'entity.verify.failed': 'The request body was refused',
  'request.aborted': 'The request body was not received completely',
  'request.size.invalid': 'The request body is shorter than its Content-Length',
  'charset.unsupported': 'Unsupported charset: send the body as UTF-8',
  'encoding.unsupported': 'Unsupported Content-Encoding: send the body as identity, gzip, deflate or br',
  'stream.encoding.set': 'The request body could not be read',
};

/**
 * Express error handler for everything that fails before GraphQL runs (body parsing above all): JSON in the
 * API's error shape, client errors as 4xx, and never a stack trace or a server path.
 */
export function jsonErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const e = (err ?? {}) as { status?: unknown; statusCode?: unknown; type?: unknown; limit?: unknown };
    const raw = Number(e.status ?? e.statusCode);
    const status = Number.isInteger(raw) && raw >= 400 && raw < 500 ? raw : 500;
    if (status === 500) {
      log.error({ err, path: req.path }, 'request failed before GraphQL');
      res.status(500).json(errorBody('Internal server error', 'INTERNAL_SERVER_ERROR'));
      return;
    }
    let message = (typeof e.type === 'string' && BODY_ERRORS[e.type]) || 'The request could not be read';
    if (e.type === 'entity.parse.failed' && isJson((err as { body?: unknown }).body)) {
      message = 'The request body must be a JSON object such as {"query": "{ team { id } }", "variables": {}}';
    }
    if (e.type === 'entity.too.large' && typeof e.limit === 'number') message += ` (limit ${e.limit} bytes)`;
    res.status(status).json(errorBody(message, 'BAD_REQUEST'));
  };
}

function isJson(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
