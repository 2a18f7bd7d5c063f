/**
 * The API process's HTTP server: GraphQL over HTTP and over WebSocket (graphql-ws) on the same port and path
 * `/graphql`, liveness `/healthz`, readiness `/readyz` (the store answers), and optionally static files at `/`.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { DependencyContainer } from 'tsyringe';
import type { DataSource } from 'typeorm';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ChangeListener } from '../store/event-bus';
import { answerReadiness, type Health } from '../health';
import { requestMetricsPlugin, type Metrics } from '../metrics';
import { DATA_SOURCE } from '../tokens';
import { authenticate, tokenFromHeader } from './auth';
import { BackfillService } from './backfill.service';
import { BatchExportService } from './batch-export.service';
import { createLoaders } from './loaders';
import { API_OPTIONS, CHANGE_FEED, type ApiContext, type ApiOptions } from './context';
import { DestinationService, TEST_CONNECTION_TIMEOUT_MS } from './destination.service';
import { expandFieldErrors, formatApiError } from './errors';
import { queryLimitsFrom } from './query-limits';
import { graphqlPathOnly, jsonErrorHandler, prepareWsOperation, requestGuardsPlugin } from './request-guards';
import { LogService } from './log.service';
import { RESOLVERS, buildApiSchema } from './schema';
import { RunService } from './run.service';
import { SubscriptionService } from './subscription.service';
import { TeamService } from './team.service';

export interface ApiServerDeps {
  /** Holds CONFIG, DATA_SOURCE, LOGGER, SECRET_BOX, SOURCE, CLOCK and the PluginRegistry. */
  container: DependencyContainer;
  config: Config;
  logger: Logger;
  listener: ChangeListener;
  host: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  /** A built web UI to serve at `/` (unknown GET paths fall back to its index.html). */
  staticDir?: string;
  /** What `/readyz` checks: every role of the process. Default: the store answers. */
  health?: Health;
  /** How long testDestination waits for a plugin. Default: 15 000 ms. */
  testConnectionTimeoutMs?: number;
  /** Served on `/metrics`; API request latency is recorded into it. Unset: no `/metrics`. */
  metrics?: Metrics;
}

export interface ApiServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const SERVICES = [DestinationService, RunService, BackfillService, BatchExportService, LogService, TeamService, SubscriptionService];

type WsExtra = { token?: string; auth?: Omit<ApiContext, 'container' | 'loaders'>; authError?: GraphQLError };

/** How often open WebSockets' tokens are re-checked, in case a revocation notice was missed. */
const REVOCATION_SWEEP_MS = 5_000;

/**
 * The container scope the API's services and resolvers live in. Also used outside the server (first-boot demo
 * set-up), so a service behaves the same whoever calls it.
 */
export function apiScope(parent: DependencyContainer, deps: { listener?: ApiServerDeps['listener']; testConnectionTimeoutMs?: number } = {}): DependencyContainer {
  const scope = parent.createChildContainer();
  if (deps.listener) scope.register(CHANGE_FEED, { useValue: deps.listener });
  scope.register(API_OPTIONS, { useValue: { testConnectionTimeoutMs: deps.testConnectionTimeoutMs ?? TEST_CONNECTION_TIMEOUT_MS } satisfies ApiOptions });
  for (const cls of [...SERVICES, ...RESOLVERS]) scope.registerSingleton(cls as never);
  return scope;
}

export async function startApiServer(deps: ApiServerDeps): Promise<ApiServer> {
  const log = deps.logger;
  const scope = apiScope(deps.container, deps);
  const ds = scope.resolve<DataSource>(DATA_SOURCE);
  const schema = await buildApiSchema(scope);
  const limits = queryLimitsFrom(deps.config);
  const logError = (err: unknown) => log.error({ err }, 'GraphQL request failed');
  const contextFor = async (authorization: unknown): Promise<ApiContext> => {
    const auth = await authenticate(ds, tokenFromHeader(authorization));
    return { ...auth, container: scope, loaders: createLoaders(ds, auth.teamId) };
  };

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const sockets = new SocketsByToken();
  const wsCleanup = useServer<Record<string, unknown> | undefined, WsExtra>(
    {
      schema,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        try {
          // connectionParams first (browsers cannot set headers on a WebSocket), then the upgrade request's header.
          const given = params.authorization ?? params.Authorization ?? params.token ?? ctx.extra.request.headers.authorization;
          ctx.extra.token = tokenFromHeader(given);
          ctx.extra.auth = await authenticate(ds, ctx.extra.token);
          sockets.add(ctx.extra.auth.tokenId, ctx.extra.socket);
        } catch (err) {
          // Keep the socket: each subscription then fails with a proper UNAUTHENTICATED error.
          ctx.extra.authError = err as GraphQLError;
        }
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        if (!ctx.extra.auth) return [ctx.extra.authError!];
        // Re-checked on every subscribe: the token may have been revoked since connection_init.
        try {
          ctx.extra.auth = await authenticate(ds, ctx.extra.token);
        } catch (err) {
          return [err as GraphQLError];
        }
        return prepareWsOperation(schema, limits, payload);
      },
      context: (ctx) => ({ ...ctx.extra.auth!, container: scope, loaders: createLoaders(ds, ctx.extra.auth!.teamId, { cache: false }) }) satisfies ApiContext,
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: expandFieldErrors(result.errors.map((e) => formatApiError(e.toJSON(), e, logError))) } : undefined,
      onError: (_ctx, _id, _payload, errors) => expandFieldErrors(errors.map((e) => formatApiError(e.toJSON(), e, logError))),
    },
    wsServer,
  );

  const apollo = new ApolloServer<ApiContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    parseOptions: { maxTokens: limits.maxTokens },
    formatError: (formatted, error) => formatApiError(formatted, error, logError),
    plugins: [
      requestGuardsPlugin(schema, limits),
      requestMetricsPlugin(deps.metrics, log),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.text());
    });
  }
  app.get('/readyz', async (_req, res) => {
    if (deps.health) return answerReadiness(deps.health, res, log);
    try {
      await ds.query('SELECT 1');
      res.json({ status: 'ready' });
    } catch (err) {
      res.status(503).json({ status: 'unavailable', reason: 'metadata store unreachable' });
      log.warn({ err: String(err) }, 'readiness check failed');
    }
  });
  app.use(
    '/graphql',
    graphqlPathOnly,
    express.json({ limit: '2mb' }),
    expressMiddleware(apollo, { context: async ({ req }) => contextFor(req.headers.authorization) }),
    jsonErrorHandler(log),
  );
  if (deps.staticDir) mountStatic(app, deps.staticDir);

  const stopRevocations = deps.listener.onTokenRevoked((c) => sockets.close(c.tokenId));
  const sweep = setInterval(() => {
    sockets.sweep(ds).catch((err) => log.warn({ err: String(err) }, 'revoked-token sweep failed'));
  }, REVOCATION_SWEEP_MS).unref();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(deps.port, deps.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = deps.host.includes(':') ? `[${deps.host}]` : deps.host;
  const url = `http://${host}:${port}/graphql`;
  log.info({ url }, 'API listening');
  return {
    url,
    port,
    async stop() {
      stopRevocations();
      clearInterval(sweep);
      await apollo.stop();
      wsServer.close();
      scope.dispose?.();
    },
  };
}

/**
 * Open WebSockets by the API token that authenticated them, so a revocation (noticed through the change feed,
 * or by the periodic sweep) closes them with 4401 and their subscriptions end.
 */
class SocketsByToken {
  private readonly byToken = new Map<string, Set<WebSocket>>();

  add(tokenId: string, socket: WebSocket): void {
    let set = this.byToken.get(tokenId);
    if (!set) this.byToken.set(tokenId, (set = new Set()));
    set.add(socket);
    socket.once('close', () => {
      set.delete(socket);
      if (set.size === 0 && this.byToken.get(tokenId) === set) this.byToken.delete(tokenId);
    });
  }

  close(tokenId: string): void {
    for (const socket of this.byToken.get(tokenId) ?? []) socket.close(4401, 'Unauthorized: the API token was revoked');
  }

  async sweep(ds: DataSource): Promise<void> {
    if (this.byToken.size === 0) return;
    const rows: { id: string }[] = await ds.query(`SELECT id FROM api_tokens WHERE id = ANY($1::uuid[]) AND revoked_at IS NOT NULL`, [[...this.byToken.keys()]]);
    for (const { id } of rows) this.close(id);
  }
}

/** Serves a single-page app: files as they are, any other GET that wants HTML gets index.html. */
function mountStatic(app: express.Express, dir: string): void {
  const index = path.join(dir, 'index.html');
  app.use(express.static(dir, { index: 'index.html', fallthrough: true }));
  app.use((req, res, next) => {
    if (req.method !== 'GET' || !req.accepts('html') || !fs.existsSync(index)) return next();
    res.sendFile(index);
  });
}
