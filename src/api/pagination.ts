/**
 * Relay-style cursor connections with keyset pagination (newest first). A cursor is opaque to clients: base64url
 * of `[sortValue, id]`, where timestamps keep Postgres' microseconds (a JS Date would round them and skip rows).
 */
import { type ClassType, Field, ObjectType } from 'type-graphql';
import { badInput } from './errors';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

@ObjectType()
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  node: T;
  cursor: string;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

export function ConnectionType<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  class EdgeClass {
    @Field(() => node)
    node!: T;

    @Field()
    cursor!: string;
  }

  @ObjectType(`${name}ConnectionBase`)
  abstract class ConnectionClass {
    @Field(() => [EdgeClass])
    edges!: EdgeClass[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return ConnectionClass;
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

/** Builds a connection from `limit + 1` fetched rows. */
export function toConnection<T>(rows: { node: T; sortValue: string; id: string }[], limit: number): Connection<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((r) => ({ node: r.node, cursor: encodeCursor(r.sortValue, r.id) }));
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.length ? edges[edges.length - 1].cursor : null } };
}
