/**
 * `outport/sdk` file toolkit: streaming JSON Lines and Parquet encoders, key templates, and the exactly-once run
 * writer (files + stale cleanup + manifest) that the built-in local-files and S3 destinations use. A third-party
 * object-store destination implements `FileStore` and calls `writeRunFiles` (row path) and `writeEncodedRunFiles`
 * (byte path: ClickHouse-encoded streams, see `WireFormat` in destination.ts), or the whole-write helpers
 * `writeConfiguredRun` / `writeConfiguredEncodedRun` with `fileOutputFields` config.
 */
export * from './compression';
export * from './jsonl';
export * from './parquet';
export * from './timestamps';
export * from './keys';
export * from './store';
export * from './run-writer';
export * from './read';
export * from './options';
