/**
 * Relay cursor connections, the shape of every list the API answers: keyset pagination in SQL for the long lists
 * (exports, runs, logs, notification messages; toConnection), and connectionFromList for short lists read whole.
 * A cursor is opaque to clients: base64url of `[sortValue, id]`, where SQL timestamps keep Postgres' microseconds
 * (a JS Date would round them and skip rows).
 */
import { ArgsType, type ClassType, Field, Int, ObjectType } from 'type-graphql';
import { badInput } from './errors';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

@ObjectType({ description: 'Where a page of a connection sits in the whole list (Relay cursor connections).' })
export class PageInfo {
  @Field({ description: 'Items follow this page: read them with after: endCursor.' })
  hasNextPage!: boolean;

  @Field({ description: 'Items precede this page: read them with last and before: startCursor.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: "The first edge's cursor; null on an empty page." })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: "The last edge's cursor, to pass as after for the next page; null on an empty page." })
  endCursor!: string | null;
}

export interface Edge<T> {
  node: T;
  cursor: string;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  /** Read only when a client selects totalCount: counting is a query of its own. */
  readonly totalCount?: Promise<number> | number;
}

/**
 * The object type of a connection of `node`s: `<name>Connection { edges { cursor node } pageInfo totalCount }`.
 * `totalCount: false` leaves the count out where counting could scan a large table (logs).
 */
export function ConnectionType<T extends object>(name: string, node: ClassType<T>, options: { totalCount?: boolean; itemsDescription?: string } = {}) {
  const items = options.itemsDescription ?? `${name} items`;
  @ObjectType(`${name}Edge`, { description: `One of the ${items} of a page, with its cursor.` })
  class EdgeClass {
    @Field(() => node, { description: 'The item.' })
    node!: T;

    @Field({ description: 'Where this item sits in the list: pass it as after to read the items that follow it.' })
    cursor!: string;
  }

  if (options.totalCount === false) {
    @ObjectType(`${name}ConnectionBase`)
    abstract class ConnectionClass {
      @Field(() => [EdgeClass], { description: `The ${items} of this page, in the list's order.` })
      edges!: EdgeClass[];

      @Field(() => PageInfo, { description: 'Cursors of this page and whether more items follow or precede it.' })
      pageInfo!: PageInfo;
    }
    return ConnectionClass;
  }

  @ObjectType(`${name}ConnectionBase`)
  abstract class CountedConnectionClass {
    @Field(() => [EdgeClass], { description: `The ${items} of this page, in the list's order.` })
    edges!: EdgeClass[];

    @Field(() => PageInfo, { description: 'Cursors of this page and whether more items follow or precede it.' })
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'How many items the whole list holds (all pages, with the same filters).' })
    totalCount!: number;
  }
  return CountedConnectionClass;
}

export const FIRST_DESCRIPTION = `Page forward: at most this many items from the start or after \`after\` (default ${DEFAULT_PAGE}, at most ${MAX_PAGE}).`;
export const AFTER_DESCRIPTION = "The items after this cursor (a page's pageInfo.endCursor).";
export const LAST_DESCRIPTION = `Page backward: at most this many items from the end or before \`before\` (at most ${MAX_PAGE}); not with first/after.`;
export const BEFORE_DESCRIPTION = "The items before this cursor (a page's pageInfo.startCursor).";

/** The arguments every connection takes: forward with first/after, or backward with last/before. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: FIRST_DESCRIPTION })
  first?: number | null;

  @Field(() => String, { nullable: true, description: AFTER_DESCRIPTION })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: LAST_DESCRIPTION })
  last?: number | null;

  @Field(() => String, { nullable: true, description: BEFORE_DESCRIPTION })
  before?: string | null;
}

/** One page asked for: its size, the cursor it starts from, and whether it reads backward (from the list's end). */
export interface PageRequest {
  limit: number;
  cursor?: { sortValue: string; id: string };
  backward: boolean;
}

type CursorDecoder = (cursor: string | undefined | null, field: string) => { sortValue: string; id: string } | undefined;

/** Validates the page arguments; BAD_USER_INPUT on a mix of directions, a bad size or a forged cursor. */
export function pageRequest(args: PageArgs, decode: CursorDecoder): PageRequest {
  const backward = (args.last ?? null) !== null || (args.before ?? null) !== null;
  if (backward && ((args.first ?? null) !== null || (args.after ?? null) !== null)) {
    throw badInput('last', 'page forward (first, after) or backward (last, before), not both at once');
  }
  return backward
    ? { limit: pageSize(args.last, 'last'), cursor: decode(args.before, 'before'), backward }
    : { limit: pageSize(args.first, 'first'), cursor: decode(args.after, 'after'), backward };
}

/**
 * A keyset page of a list kept newest first in SQL: decodes `[timestamp, id]` cursors (uuid or bigint ids); the
 * query orders by `order` and keeps rows whose key compares `pastCursor` to the cursor.
 */
export function keysetPage(args: PageArgs, idKind: keyof typeof ID_PATTERNS = 'uuid'): PageRequest & { order: 'ASC' | 'DESC'; pastCursor: '<' | '>' } {
  const page = pageRequest(args, (cursor, field) => decodeCursor(cursor, idKind, field));
  // Backward pages read the list from its far end (oldest first), then are turned around by toConnection.
  return { ...page, order: page.backward ? 'ASC' : 'DESC', pastCursor: page.backward ? '>' : '<' };
}

export function encodeCursor(sortValue: string, id: string): string {
  return Buffer.from(JSON.stringify([sortValue, id]), 'utf8').toString('base64url');
}

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const ID_PATTERNS = { uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, bigint: /^\d{1,18}$/ };

/** Decodes and checks a cursor (its parts reach SQL as typed parameters, so a forged one must fail here). */
export function decodeCursor(cursor: string | undefined | null, idKind: keyof typeof ID_PATTERNS = 'uuid', field = 'after'): { sortValue: string; id: string } | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && ISO_MICROS.test(v[0]) && ID_PATTERNS[idKind].test(v[1])) return { sortValue: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw badInput(field, 'not a cursor returned by this API');
}

export function pageSize(first: number | undefined | null, field = 'first'): number {
  if (first === undefined || first === null) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput(field, `must be between 1 and ${MAX_PAGE}`);
  return first;
}

/** SQL expression: a timestamptz column as UTC ISO text with microseconds (the cursor's sort value). */
export function isoMicros(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

function lazyCount<T>(connection: Omit<Connection<T>, 'totalCount'>, count?: () => Promise<number>): Connection<T> {
  if (!count) return connection;
  let counted: Promise<number> | undefined;
  return Object.defineProperty(connection, 'totalCount', { enumerable: true, get: () => (counted ??= count()) }) as Connection<T>;
}

function pageInfo<T>(edges: Edge<T>[], hasNextPage: boolean, hasPreviousPage: boolean): PageInfo {
  return { hasNextPage, hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null };
}

/**
 * Builds a connection from up to `limit + 1` rows fetched from the page's cursor in the page's direction (keyset
 * pagination in SQL, or a list read whole); `count` answers totalCount, only when selected.
 */
export function toConnection<T>(rows: { node: T; sortValue: string; id: string }[], page: PageRequest, count?: () => Promise<number>): Connection<T> {
  const taken = rows.slice(0, page.limit);
  const inListOrder = page.backward ? taken.reverse() : taken;
  const edges = inListOrder.map((r) => ({ node: r.node, cursor: encodeCursor(r.sortValue, r.id) }));
  const more = rows.length > page.limit;
  const fromCursor = page.cursor !== undefined;
  return lazyCount({ edges, pageInfo: pageInfo(edges, page.backward ? fromCursor : more, page.backward ? more : fromCursor) }, count);
}

/**
 * A connection over a short list read whole (a team's destinations, tokens, channels, backfills, the plugin
 * catalog): items ordered by `key` then id (descending with `newestFirst`), paged from a cursor of that same key,
 * so a page boundary holds when items are added or removed in between.
 */
export function connectionFromList<T>(items: T[], args: PageArgs, key: (item: T) => { sortValue: string; id: string }, opts: { newestFirst?: boolean } = {}): Connection<T> {
  const page = pageRequest(args, decodeListCursor);
  const keyed = items.map((node) => ({ node, ...key(node) }));
  const sign = opts.newestFirst ? -1 : 1;
  const compare = (a: { sortValue: string; id: string }, b: { sortValue: string; id: string }) =>
    sign * (a.sortValue < b.sortValue ? -1 : a.sortValue > b.sortValue ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  keyed.sort(compare);
  const { cursor } = page;
  // Rows in the page's reading direction, as SQL would return them: after the cursor, or before it from the end.
  const rows = page.backward ? keyed.filter((k) => !cursor || compare(k, cursor) < 0).reverse() : keyed.filter((k) => !cursor || compare(k, cursor) > 0);
  return lazyCount(toConnection(rows.slice(0, page.limit + 1), page), async () => items.length);
}

function decodeListCursor(cursor: string | undefined | null, field: string): { sortValue: string; id: string } | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && v[0].length <= 1000 && v[1].length <= 1000) return { sortValue: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw badInput(field, 'not a cursor returned by this API');
}
