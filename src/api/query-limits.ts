/**
 * Per-request work limits for GraphQL, so one request cannot starve the API process. Checked after parsing
 * (which `maxTokens` already bounds) and before any resolver runs, over HTTP and WebSocket alike:
 * - depth of the selection, aliases, and fragment definitions in the document;
 * - an estimated cost: every selected field counts 1, multiplied by the page sizes (`first` or `last`, `limit`) of
 *   the list fields above it, so `batchExports(first: 500) { edges { node { latestRuns(limit: 100) { id } } } }` costs
 *   about 500 × 100;
 * - fields that reach outside the process (a destination connection test, a source scan), per request.
 * Each refusal names the environment variable that sets the limit.
 */
import {
  GraphQLError,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  getNamedType,
  isCompositeType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Config } from '../config';
import { MAX_PAGE } from './pagination';

export interface QueryLimits {
  /** Lexer tokens in one document (graphql `parse` maxTokens). */
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxFragments: number;
  maxCost: number;
  /** Fields in EXPENSIVE_FIELDS, summed, per request. */
  maxExpensiveFields: number;
}

export function queryLimitsFrom(config: Pick<Config, 'OUTPORT_GRAPHQL_MAX_TOKENS' | 'OUTPORT_GRAPHQL_MAX_DEPTH' | 'OUTPORT_GRAPHQL_MAX_ALIASES' | 'OUTPORT_GRAPHQL_MAX_FRAGMENTS' | 'OUTPORT_GRAPHQL_MAX_COST' | 'OUTPORT_GRAPHQL_MAX_EXPENSIVE_FIELDS'>): QueryLimits {
  return {
    maxTokens: config.OUTPORT_GRAPHQL_MAX_TOKENS,
    maxDepth: config.OUTPORT_GRAPHQL_MAX_DEPTH,
    maxAliases: config.OUTPORT_GRAPHQL_MAX_ALIASES,
    maxFragments: config.OUTPORT_GRAPHQL_MAX_FRAGMENTS,
    maxCost: config.OUTPORT_GRAPHQL_MAX_COST,
    maxExpensiveFields: config.OUTPORT_GRAPHQL_MAX_EXPENSIVE_FIELDS,
  };
}

/** Root fields that open outbound connections or scan the source: a handful per request is plenty for a client. */
export const EXPENSIVE_FIELDS: ReadonlySet<string> = new Set(['testDestination', 'testDestinationConfig', 'estimateBackfill', 'createBackfill']);

/** Arguments that size a list; their value multiplies the cost of everything selected below. */
const PAGE_SIZE_ARGS = ['first', 'last', 'limit'];
/** A page-size argument left out and without a schema default: the API's default page. */
const UNSPECIFIED_PAGE = 50;

interface Tally {
  cost: number;
  depth: number;
  aliases: number;
  expensive: Map<string, number>;
}

const limitError = (message: string, limit: string) =>
  new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit, http: { status: 400 } } });

/** Adds without overflowing into imprecise territory: beyond any limit, the exact figure does not matter. */
const capped = (n: number) => Math.min(n, Number.MAX_SAFE_INTEGER);

/**
 * The first limit `document` breaks for the operation that would run, or undefined. Expects a document that
 * passed graphql validation (so fragments exist, are acyclic and fields exist on their types).
 */
export function checkQueryLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined | null,
  limits: QueryLimits,
): GraphQLError | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  if (fragments.size > limits.maxFragments) {
    return limitError(`The document defines ${fragments.size} fragments; at most ${limits.maxFragments} are allowed (OUTPORT_GRAPHQL_MAX_FRAGMENTS)`, 'OUTPORT_GRAPHQL_MAX_FRAGMENTS');
  }

  const variableDefaults = new Map<string, ValueNode | undefined>(operation.variableDefinitions?.map((v) => [v.variable.name.value, v.defaultValue]) ?? []);
  const numberOf = (value: ValueNode): number | undefined => {
    if (value.kind === Kind.INT) return Number(value.value);
    if (value.kind === Kind.VARIABLE) {
      const given = variables?.[value.name.value];
      if (typeof given === 'number') return given;
      const fallback = variableDefaults.get(value.name.value);
      return fallback ? numberOf(fallback) : undefined;
    }
    return undefined;
  };

  // A fragment is tallied once and reused: nested spreads cannot blow the walk up exponentially.
  const fragmentTallies = new Map<string, Tally>();
  const tallyFragment = (name: string): Tally => {
    const known = fragmentTallies.get(name);
    if (known) return known;
    const empty: Tally = { cost: 0, depth: 0, aliases: 0, expensive: new Map() };
    fragmentTallies.set(name, empty); // guards a cycle, which validation has already refused
    const def = fragments.get(name);
    const type = def && schema.getType(def.typeCondition.name.value);
    const tally = def && type && isCompositeType(type) ? tallySelections(def.selectionSet, type) : empty;
    fragmentTallies.set(name, tally);
    return tally;
  };

  const tallySelections = (set: SelectionSetNode, parent: GraphQLCompositeType): Tally => {
    const total: Tally = { cost: 0, depth: 0, aliases: 0, expensive: new Map() };
    const add = (t: Tally, depthOffset: number, costFactor = 1) => {
      total.cost = capped(total.cost + t.cost * costFactor);
      total.depth = Math.max(total.depth, t.depth + depthOffset);
      total.aliases = capped(total.aliases + t.aliases);
      for (const [k, n] of t.expensive) total.expensive.set(k, capped((total.expensive.get(k) ?? 0) + n));
    };
    for (const sel of set.selections) {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        add(tallyFragment(sel.name.value), 0);
        continue;
      }
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) add(tallySelections(sel.selectionSet, type), 0);
        continue;
      }
      const name = sel.name.value;
      const own: Tally = { cost: 1, depth: 1, aliases: sel.alias ? 1 : 0, expensive: new Map(EXPENSIVE_FIELDS.has(name) ? [[name, 1]] : []) };
      // Introspection's own fields are not in the root type's field map, yet nest as deep as a client asks.
      const fieldDef = name === '__schema' ? SchemaMetaFieldDef : name === '__type' ? TypeMetaFieldDef : 'getFields' in parent ? parent.getFields()[name] : undefined;
      if (sel.selectionSet && fieldDef) {
        const childType = getNamedType(fieldDef.type);
        // A connection takes first or last: the one given sizes the page; neither, the default (or the API's page).
        const sizeArgs = fieldDef.args.filter((a) => PAGE_SIZE_ARGS.includes(a.name));
        const given = sizeArgs.flatMap((argDef) => sel.arguments?.filter((a) => a.name.value === argDef.name) ?? []);
        const defaults = sizeArgs.map((a) => a.defaultValue).filter((v): v is number => typeof v === 'number');
        const asked = given.length ? given.map((a) => numberOf(a.value) ?? UNSPECIFIED_PAGE) : defaults.length ? defaults : sizeArgs.length ? [UNSPECIFIED_PAGE] : [1];
        // Beyond MAX_PAGE the resolver refuses the argument, so no more work than that is done.
        const size = Math.max(1, ...asked.map((n) => Math.min(MAX_PAGE, Math.max(1, n))));
        if (isCompositeType(childType)) {
          const children = tallySelections(sel.selectionSet, childType);
          own.cost = capped(1 + size * children.cost);
          own.depth = 1 + children.depth;
          own.aliases = capped(own.aliases + children.aliases);
          for (const [k, n] of children.expensive) own.expensive.set(k, capped((own.expensive.get(k) ?? 0) + n));
        }
      }
      add(own, 0);
    }
    return total;
  };

  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return undefined;
  const tally = tallySelections(operation.selectionSet, rootType);

  const expensiveTotal = [...tally.expensive.values()].reduce((a, b) => a + b, 0);
  if (expensiveTotal > limits.maxExpensiveFields) {
    const used = [...tally.expensive].map(([k, n]) => `${k} ×${n}`).join(', ');
    return limitError(
      `The request asks for ${used}; at most ${limits.maxExpensiveFields} of ${[...EXPENSIVE_FIELDS].join(', ')} may run per request (OUTPORT_GRAPHQL_MAX_EXPENSIVE_FIELDS): send them in separate requests`,
      'OUTPORT_GRAPHQL_MAX_EXPENSIVE_FIELDS',
    );
  }
  if (tally.depth > limits.maxDepth) {
    return limitError(`The query nests ${tally.depth} levels deep; at most ${limits.maxDepth} are allowed (OUTPORT_GRAPHQL_MAX_DEPTH)`, 'OUTPORT_GRAPHQL_MAX_DEPTH');
  }
  if (tally.aliases > limits.maxAliases) {
    return limitError(`The query uses ${tally.aliases} aliases; at most ${limits.maxAliases} are allowed (OUTPORT_GRAPHQL_MAX_ALIASES)`, 'OUTPORT_GRAPHQL_MAX_ALIASES');
  }
  if (tally.cost > limits.maxCost) {
    return limitError(
      `The query's estimated cost ${tally.cost} exceeds the limit of ${limits.maxCost} (OUTPORT_GRAPHQL_MAX_COST): every field counts 1, multiplied by the page sizes (first or last, limit) of the lists above it; ask for smaller pages, fewer fields or fewer aliases`,
      'OUTPORT_GRAPHQL_MAX_COST',
    );
  }
  return undefined;
}

/**
 * The argument path of the first string containing a NUL character, in literals or variables, or undefined.
 * Postgres text cannot hold NUL, and no name, id, cursor or setting legitimately contains one.
 */
export function findNulCharacter(document: DocumentNode, variables: Record<string, unknown> | undefined | null): string | undefined {
  const inValue = (value: unknown, path: string): string | undefined => {
    if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const found = inValue(value[i], `${path}.${i}`);
        if (found) return found;
      }
      return undefined;
    }
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k.includes('\u0000')) return `${path}.${k.replace(/\u0000/g, '\\0')}`;
        const found = inValue(v, `${path}.${k}`);
        if (found) return found;
      }
    }
    return undefined;
  };
  const inNode = (node: ValueNode, path: string): string | undefined => {
    switch (node.kind) {
      case Kind.STRING:
        return node.value.includes('\u0000') ? path : undefined;
      case Kind.VARIABLE:
        return inValue(variables?.[node.name.value], path);
      case Kind.LIST:
        for (let i = 0; i < node.values.length; i++) {
          const found = inNode(node.values[i], `${path}.${i}`);
          if (found) return found;
        }
        return undefined;
      case Kind.OBJECT:
        for (const f of node.fields) {
          const found = inNode(f.value, `${path}.${f.name.value}`);
          if (found) return found;
        }
        return undefined;
      default:
        return undefined;
    }
  };
  const inSelections = (set: SelectionSetNode | undefined): string | undefined => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.FIELD) {
        for (const arg of sel.arguments ?? []) {
          const found = inNode(arg.value, arg.name.value);
          if (found) return found;
        }
      }
      if (sel.kind !== Kind.FRAGMENT_SPREAD) {
        const found = inSelections(sel.selectionSet);
        if (found) return found;
      }
    }
    return undefined;
  };
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION && def.kind !== Kind.FRAGMENT_DEFINITION) continue;
    const found = inSelections(def.selectionSet);
    if (found) return found;
  }
  // A variable no argument uses still reaches nothing, but a NUL there is as surely a client mistake.
  return (variables ? inValue(variables, '$') : undefined)?.replace(/^\$\./, '$');
}
