/** The ClickHouse source: reads PostHog-shaped events, persons and sessions as RecordBatches. */
export { startEmbeddedClickHouse, type EmbeddedClickHouse, type EmbeddedClickHouseOptions } from './embedded-clickhouse';
export { ClickHouseSource, type SourceQuery, type StreamOptions, type SourceEstimate } from './source';
export { createSourceTables, sourceTableDdl, type SourceTableNames } from './schema';
export {
  parseSourceConfig,
  sourceConfigSchema,
  createSourceClient,
  isIdentifier,
  type SourceConfig,
  type SourceConfigInput,
} from './config';
export { validatePropertyFilters, PROPERTY_FILTER_OPERATORS, type PropertyFilter, type PropertyFilterOperator } from './filters';
export {
  prng,
  generateEvents,
  hostileEvents,
  generatePersons,
  insertEvents,
  insertPersons,
  insertBulkEvents,
  HOSTILE_STRINGS,
  isoMicros,
  microsOf,
  type SourceEvent,
  type PersonRow,
  type PersonDistinctIdRow,
} from './generator';
