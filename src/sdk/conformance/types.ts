import type { DestinationPlugin, EncodedRun, WireFormat } from '../destination';
import type { Column, Model, ModelSchema, Row, Value } from '../models';

/**
 * The checks every destination must pass, unless its fixture lists the check in `skip` with a reason.
 * - `connection`: `testConnection` succeeds on `config()`.
 * - `config-validation`: `config()` passes `configSchema`; every `invalidConfigs` entry fails it at its path.
 * - `events-roundtrip`: every generated event (hostile values included) lands once, value for value.
 * - `persons-merge` / `sessions-merge`: a later run merges by key and version (older versions never win; see
 *   "Version columns" in models.ts). Persons include a person row arriving after its distinct id, a rewrite at
 *   the same versions, and a distinct id moved to a person of lower version.
 * - `empty-run`: a run with zero batches succeeds and lands nothing.
 * - `retry-no-duplicates`: an attempt aborted mid-stream leaves nothing; attempts 2 and 3 and a re-export of
 *   the same interval by another run each leave every row exactly once.
 * - `overlap-no-duplicates`: a run over an interval that overlaps an earlier run's leaves no duplicates.
 * - `two-exports-one-destination`: two exports (different `exportId`, same model and interval, different but
 *   overlapping selections of rows) written to the same config at the same time (an attempt failing 'retryable' runs
 *   again, as the host does), then one retried and re-run over
 *   the interval and the other retried: every row of each export stays readable exactly once. Read per export
 *   with `readBackExport` when the destination keeps exports apart (files), else as the union by key (a table holds
 *   a row both exports selected once).
 * - `replacements-reported`: the hostile rows of every model (plus values some destinations cannot store as given:
 *   lone surrogates, invalid JSON, JSON deeper than 1,000 levels) are written and read back; every value that
 *   differs from what was written must be covered by `WriteResult.replacements` on its column, with counts that
 *   match the values changed. A destination that lands every value unchanged reports nothing.
 * - `byte-path-matches-rows`: for a plugin with the byte path (`writeEncoded`), the hostile rows of every model
 *   (the ones the source can produce: valid Unicode, JSON that is and is not valid) are written once through `write`
 *   and once through `writeEncoded` (encoded by ClickHouse from the same rows, via the fixture's `encodeRows`) into
 *   two fresh configs; both read back identical, value by value, and both report every row landed.
 * - `permanent-error`: `brokenConfig` fails as 'config' or 'permanent', never 'retryable'.
 * - `outage-retryable`: `unreachableConfig` fails as 'retryable'.
 */
export type ConformanceCheck =
  | 'connection'
  | 'config-validation'
  | 'events-roundtrip'
  | 'persons-merge'
  | 'sessions-merge'
  | 'empty-run'
  | 'retry-no-duplicates'
  | 'overlap-no-duplicates'
  | 'two-exports-one-destination'
  | 'replacements-reported'
  | 'byte-path-matches-rows'
  | 'permanent-error'
  | 'outage-retryable';

export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = [
  'connection',
  'config-validation',
  'events-roundtrip',
  'persons-merge',
  'sessions-merge',
  'empty-run',
  'retry-no-duplicates',
  'overlap-no-duplicates',
  'two-exports-one-destination',
  'replacements-reported',
  'byte-path-matches-rows',
  'permanent-error',
  'outage-retryable',
];

export interface ConformanceFixture<C = any> {
  plugin: DestinationPlugin<C>;
  /** A valid config pointing at a FRESH place (new table / prefix / directory) each call. */
  config(): Promise<C> | C;
  /** Configs that must fail `plugin.configSchema.safeParse`, with the path of an expected issue (e.g. ['port']). */
  invalidConfigs: { config: unknown; path: (string | number)[] }[];
  /** Reads back every row of `model` that landed for `config`, as Rows (same shapes as src/sdk/models.ts). */
  readBack(config: C, model: Model): Promise<Row[]>;
  /**
   * For destinations that keep each export's rows apart (files under `export_id=` folders): the rows of `model`
   * that export `exportId` landed for `config`, as a reader of that export sees them. Leave it out when exports
   * share one place (a table): two exports are then checked on `readBack`, the union of their rows by key.
   */
  readBackExport?(config: C, model: Model, exportId: string): Promise<Row[]>;
  /**
   * For plugins with the byte path: the host's encoding of `rows` in `format` (ClickHouse writes the bytes from a
   * table holding exactly these rows, through the SQL of the source's byte path). In this repository:
   * `encodeRowsWithClickHouse` (test/support/encode-rows.ts). `done()` drops what it created.
   */
  encodeRows?(rows: Row[], schema: ModelSchema, format: WireFormat): Promise<{ run: EncodedRun; done(): Promise<void> }>;
  /** A config whose testConnection/write fails with a 'config' or 'permanent' DestinationError (wrong password, missing bucket). */
  brokenConfig?(config: C): C | Promise<C>;
  /** A config pointing at a destination that is down (closed port): write must fail 'retryable'. */
  unreachableConfig?(config: C): C | Promise<C>;
  /** Documented lossy rules of this destination, applied to expected values before comparing (e.g. Postgres
   *  cannot store U+0000). Return the value the destination is expected to hold. */
  expectedValue?(column: Column, value: Value, model: Model): Value;
  /** Checks that do not apply, each with the reason; the suite prints them aloud (`it.skip` titled with the reason). */
  skip?: { check: ConformanceCheck; reason: string }[];
  /** Called after the suite (drop schemas, stop fakes). */
  teardown?(): Promise<void>;
}
