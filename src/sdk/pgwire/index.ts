/**
 * `outport/sdk/pgwire`: building blocks for destinations that speak the Postgres wire protocol (Postgres,
 * Redshift, and compatible servers): identifier quoting and limits, the shared connection settings, TLS modes,
 * connecting and cancelling with node-postgres, schema and privilege checks, and classification of the failures
 * node-postgres reports without a SQLSTATE (SQLSTATEs themselves: `classifyPostgresError` in `outport/sdk`).
 *
 * A separate entry point from `outport/sdk` because it loads `pg`.
 */
export * from './identifiers';
export * from './config';
export * from './connection';
export * from './errors';
export * from './catalog';
export * from './message-query';
