/** Builds the GraphQL schema from the resolver classes. `schema.graphql` is emitted from it (npm run schema). */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import type { DependencyContainer } from 'tsyringe';
import { buildSchema } from 'type-graphql';
import { scopeChecker } from './auth';
import { BackfillResolver } from './backfill.resolver';
import { BatchExportResolver } from './batch-export.resolver';
import { DestinationResolver } from './destination.resolver';
import { LogResolver } from './log.resolver';
import { NotificationResolver } from './notification.resolver';
import { RunResolver } from './run.resolver';
import { SubscriptionResolver } from './subscription.resolver';
import { TeamResolver } from './team.resolver';

export const RESOLVERS = [BatchExportResolver, RunResolver, BackfillResolver, DestinationResolver, LogResolver, TeamResolver, SubscriptionResolver, NotificationResolver] as const;

/**
 * type-graphql insists on a PubSub when there are subscriptions, but ours all bring their own `subscribe` over
 * the cross-process change feed (see subscription.service.ts); topic-based subscriptions are a bug here.
 */
const NO_TOPICS = {
  publish(): never {
    throw new Error('topic pub/sub is not used: publish changes with publishChange/publishRun (src/store/event-bus.ts)');
  },
  subscribe(): never {
    throw new Error('topic subscriptions are not used: give @Subscription a `subscribe` over the change feed');
  },
};

/** Without a container the schema can be printed but not executed. */
export async function buildApiSchema(container?: DependencyContainer): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    container: container ? { get: (cls) => container.resolve(cls) } : undefined,
    authChecker: scopeChecker,
    validate: { forbidUnknownValues: false },
    pubSub: NO_TOPICS,
  });
}

/** The schema as SDL, types sorted by name: stable across runs and refactors that only move code. */
export async function printApiSchema(): Promise<string> {
  const schema = await buildApiSchema();
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
