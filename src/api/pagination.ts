/**
 * Relay cursor connections, the shape of every list the API answers: keyset pagination in SQL for the long lists
 * (exports, runs, logs, notification messages; toConnection), and connectionFromList for short lists read whole.
 * A cursor is opaque to clients: base64url of `[sortValue, id]`, where SQL timestamps keep Postgres' microseconds
 * (a JS Date would round them and skip rows).
 */
import { type ClassType, Field, Int, ObjectType } from 'type-graphql';
import { badInput } from './errors';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

@ObjectType({ description: 'Where a page of a connection sits in the whole list (Relay cursor connections).' })
export class PageInfo {
  @Field({ description: 'More items follow endCursor: ask again with after: endCursor.' })
  hasNextPage!: boolean;

  @Field({ description: 'Items precede startCursor (true on every page after the first).' })
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

/** Arguments every connection takes. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export const FIRST_DESCRIPTION = `Page size: at most this many items (default ${DEFAULT_PAGE}, at most ${MAX_PAGE}).`;
export const AFTER_DESCRIPTION = "The items after this cursor (a previous page's pageInfo.endCursor); omitted: from the start.";

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
 * Builds a connection from `limit + 1` rows fetched after the cursor `after` (keyset pagination in SQL);
 * `count` answers totalCount, only when selected.
 */
export function toConnection<T>(rows: { node: T; sortValue: string; id: string }[], limit: number, after?: string | null, count?: () => Promise<number>): Connection<T> {
  const edges = rows.slice(0, limit).map((r) => ({ node: r.node, cursor: encodeCursor(r.sortValue, r.id) }));
  return lazyCount({ edges, pageInfo: pageInfo(edges, rows.length > limit, after !== undefined && after !== null) }, count);
}

/**
 * A connection over a short list read whole (a team's destinations, tokens, channels, backfills, the plugin
 * catalog): items ordered by `key` then id (descending with `newestFirst`), paged after a cursor of that same key,
 * so a page boundary holds when items are added or removed in between.
 */
export function connectionFromList<T>(items: T[], args: PageArgs, key: (item: T) => { sortValue: string; id: string }, opts: { newestFirst?: boolean } = {}): Connection<T> {
  const limit = pageSize(args.first);
  const cursor = decodeListCursor(args.after);
  const keyed = items.map((node) => ({ node, ...key(node) }));
  const sign = opts.newestFirst ? -1 : 1;
  const compare = (a: { sortValue: string; id: string }, b: { sortValue: string; id: string }) =>
    sign * (a.sortValue < b.sortValue ? -1 : a.sortValue > b.sortValue ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  keyed.sort(compare);
  const rest = cursor ? keyed.filter((k) => compare(k, cursor) > 0) : keyed;
  return lazyCount(toConnection(rest.slice(0, limit + 1), limit, args.after), async () => items.length);
}

function decodeListCursor(cursor: string | undefined | null): { sortValue: string; id: string } | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && v[0].length <= 1000 && v[1].length <= 1000) return { sortValue: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw badInput('after', 'not a cursor returned by this API');
}
