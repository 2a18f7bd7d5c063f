import type { DependencyContainer } from 'tsyringe';
import type { TokenScope } from '../store/entities';
import type { ApiLoaders } from './loaders';

/** Who is calling: every query, mutation and subscription is scoped to `teamId`. */
export interface ApiContext {
  teamId: number;
  tokenId: string;
  scopes: TokenScope[];
  /** The API's container, for subscription sources (type-graphql calls `subscribe` outside any resolver instance). */
  container: DependencyContainer;
  /** Batched lookups for field resolvers (one query per field across a list). */
  loaders: ApiLoaders;
}

/** The process's change feed (src/store/event-bus.ts ChangeListener), registered by startApiServer. */
export const CHANGE_FEED = Symbol('ChangeFeed');

/** Tunables of the API process (see ApiServerDeps). */
export interface ApiOptions {
  /** How long testDestination waits for a plugin's connection test. Default: 15 s. */
  testConnectionTimeoutMs: number;
}
export const API_OPTIONS = Symbol('ApiOptions');
