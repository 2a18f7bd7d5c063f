/** Scalars beyond GraphQL's built-ins. Dates use type-graphql's default, `DateTimeISO` (UTC ISO-8601 strings). */
import { JSONObjectResolver, JSONResolver, SafeIntResolver } from 'graphql-scalars';

/** Any JSON object (destination configs, config schemas). */
export const JSONObject = JSONObjectResolver;
/** Any JSON value (property-filter values: string, number, list of strings, null). */
export const JSON = JSONResolver;
/** Integers up to 2^53 - 1: row and byte counts outgrow GraphQL's 32-bit Int. */
export const SafeInt = SafeIntResolver;
