/** The GraphQL documents the dashboard sends, and the shapes it reads back. */

export interface Destination {
  id: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface DestinationType {
  id: string;
  displayName: string;
  description: string | null;
  configSchema: JsonSchema;
  secretFields: string[];
  models: string[];
}

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  writeOnly?: boolean;
  'x-secret'?: boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  [k: string]: unknown;
};

export interface Run {
  id: string;
  batchExportId: string;
  backfillId: string | null;
  status: string;
  trigger: string;
  intervalStart: string;
  intervalEnd: string;
  attempt: number;
  recordsRead: number;
  recordsTotalCount: number | null;
  recordsCompleted: number;
  bytesExported: number;
  latestError: string | null;
  errorKind: string | null;
  createdAt: string;
  startedAt: string | null;
  /** When the current attempt started (startedAt is the first attempt's). */
  attemptStartedAt: string | null;
  attempts: RunAttempt[];
  heartbeatAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  cancelRequestedAt: string | null;
}

export interface RunAttempt {
  number: number;
  workerId: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationSeconds: number | null;
  status: string;
  error: string | null;
  errorKind: string | null;
  recordsRead: number;
  recordsCompleted: number;
  bytesExported: number;
}

export interface ConnectionTestStep {
  name: string;
  ok: boolean;
  message: string;
}

export interface ConnectionTestResult {
  ok: boolean;
  message: string | null;
  errorKind: string | null;
  steps: ConnectionTestStep[];
}

export interface Filter {
  key: string;
  operator: string;
  type?: 'EVENT' | 'PERSON' | null;
  value?: unknown;
}

/**
 * The values of the API's FilterOperator enum, with what each needs; the end-to-end test checks the list against
 * the enum (introspection).
 */
export const FILTER_OPERATORS = [
  { value: 'EXACT', label: 'equals', needs: 'scalar-or-list' },
  { value: 'IS_NOT', label: 'does not equal', needs: 'scalar-or-list' },
  { value: 'ICONTAINS', label: 'contains (any case)', needs: 'string' },
  { value: 'NOT_ICONTAINS', label: 'does not contain (any case)', needs: 'string' },
  { value: 'REGEX', label: 'matches regex (RE2)', needs: 'string' },
  { value: 'GT', label: 'greater than', needs: 'number' },
  { value: 'LT', label: 'less than', needs: 'number' },
  { value: 'IS_SET', label: 'is set', needs: 'none' },
  { value: 'IS_NOT_SET', label: 'is not set', needs: 'none' },
] as const;

export interface BatchExport {
  id: string;
  name: string;
  model: string;
  interval: string;
  timezone: string;
  offsetHour: number;
  offsetDay: number;
  paused: boolean;
  pausedReason: string | null;
  includeEvents: string[];
  excludeEvents: string[];
  filters: Filter[];
  destination: { id: string; name: string; type: string };
  destinationId: string;
  startAt: string | null;
  endAt: string | null;
  pausedAt: string | null;
  scheduledUntil: string | null;
  createdAt: string;
  latestRuns: Pick<Run, 'id' | 'status' | 'intervalStart' | 'finishedAt'>[];
  /** null: every column of the model. */
  fields: ExportField[] | null;
  customQuery: CustomQuery | null;
  schemaMode: 'EVOLVE' | 'FROZEN';
  maxConcurrentRuns: number;
  /** POSTHOG: PostHog's events columns for the destination's kind. */
  layout: 'OUTPORT' | 'POSTHOG';
}

export type FieldType = 'STRING' | 'NUMBER' | 'BOOLEAN' | 'TIMESTAMP' | 'JSON';
export const FIELD_TYPES: FieldType[] = ['STRING', 'NUMBER', 'BOOLEAN', 'TIMESTAMP', 'JSON'];

export interface ExportField {
  source: string;
  alias?: string | null;
  type?: FieldType | null;
}

export interface CustomQuery {
  query: string;
  primaryKey: string[];
  versionKey: string[];
  mode: 'APPEND' | 'MERGE';
}

export interface SchemaPreview {
  columns: { name: string; type: string; nullable: boolean }[];
  key: string[];
  versionColumns: string[];
  rows: Record<string, unknown>[];
}

export interface Backfill {
  id: string;
  status: string;
  startAt: string;
  endAt: string;
  createdAt: string;
  finishedAt: string | null;
  estimate: Estimate | null;
  progress: { totalRuns: number; finishedRuns: number; failedRuns: number; recordsCompleted: number };
}

export interface Estimate {
  runs: number;
  /** Source rows (before deduplication). */
  rows: number | null;
  /** The source's approximate uncompressed bytes, not what the destination receives. */
  bytes: number | null;
  seconds: number;
  secondsPerRun?: number | null;
  rowsPerSecond?: number | null;
  /** Completed runs the time was calibrated on; 0: defaults. */
  calibrationRuns?: number | null;
}

export interface ApiToken {
  id: string;
  name: string;
  displayPrefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface Team {
  id: string;
  name: string;
  webhookUrl: string | null;
  maxConcurrentBackfills: number;
}

export interface PageInfo {
  endCursor: string | null;
  hasNextPage: boolean;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

/** The items of a connection's page (only its edges need be selected). */
export const nodes = <T>(c: { edges: { node: T }[] }): T[] => c.edges.map((e) => e.node);

/** Page size for lists the dashboard shows whole (the API's maximum). */
const ALL = 500;

export interface LogEntry {
  id: string;
  level: string;
  message: string;
  timestamp: string;
  runId: string | null;
}

const RUN = `id batchExportId backfillId status trigger intervalStart intervalEnd attempt recordsRead recordsTotalCount
  recordsCompleted bytesExported latestError errorKind createdAt startedAt attemptStartedAt heartbeatAt finishedAt durationSeconds cancelRequestedAt
  attempts { number workerId startedAt finishedAt durationSeconds status error errorKind recordsRead recordsCompleted bytesExported }`;
const DESTINATION = 'id name type config createdAt updatedAt';
const EXPORT = `id name model interval timezone offsetHour offsetDay paused pausedReason includeEvents excludeEvents
  filters { key operator type value } destination { id name type } destinationId startAt endAt pausedAt scheduledUntil createdAt
  latestRuns(limit: 3) { id status intervalStart finishedAt }
  fields { source alias type } customQuery { query primaryKey versionKey mode } schemaMode maxConcurrentRuns layout`;
const BACKFILL = 'id status startAt endAt createdAt finishedAt estimate { runs rows bytes seconds } progress { totalRuns finishedRuns failedRuns recordsCompleted }';

export const Q = {
  team: 'query { team { id name } }',
  teamSettings: 'query { team { id name webhookUrl maxConcurrentBackfills } }',
  updateTeam: 'mutation ($webhookUrl: String, $max: Int) { updateTeam(input: { webhookUrl: $webhookUrl, maxConcurrentBackfills: $max }) { id name webhookUrl maxConcurrentBackfills } }',
  apiTokens: `query { apiTokens(first: ${ALL}) { edges { node { id name displayPrefix scopes createdAt lastUsedAt revokedAt } } } }`,
  createApiToken: 'mutation ($name: String!, $scopes: [TokenScope!]!) { createApiToken(input: { name: $name, scopes: $scopes }) { token apiToken { id name displayPrefix scopes createdAt lastUsedAt revokedAt } } }',
  revokeApiToken: 'mutation ($id: ID!) { revokeApiToken(id: $id) { id name displayPrefix scopes createdAt lastUsedAt revokedAt } }',
  destinationTypes: `query { destinationTypes(first: ${ALL}) { edges { node { id displayName description configSchema secretFields models } } } }`,
  destinations: `query { destinations(first: ${ALL}) { edges { node { ${DESTINATION} } } } }`,
  destination: `query ($id: ID!) { destination(id: $id) { ${DESTINATION} } }`,
  createDestination: `mutation ($name: String!, $type: String!, $config: JSONObject!) { createDestination(input: { name: $name, type: $type, config: $config }) { ${DESTINATION} } }`,
  updateDestination: `mutation ($id: ID!, $name: String, $config: JSONObject) { updateDestination(input: { id: $id, name: $name, config: $config }) { ${DESTINATION} } }`,
  deleteDestination: 'mutation ($id: ID!) { deleteDestination(id: $id) { id } }',
  testDestination: 'mutation ($id: ID!) { testDestination(id: $id) { ok message errorKind steps { name ok message } } }',
  testDestinationConfig: `mutation ($input: TestDestinationConfigInput!) {
    testDestinationConfig(input: $input) { ok message errorKind steps { name ok message } } }`,

  batchExports: `query { batchExports(first: 100) { edges { node { ${EXPORT} } } } }`,
  batchExport: `query ($id: ID!) { batchExport(id: $id) { ${EXPORT} } }`,
  createBatchExport: `mutation ($input: CreateBatchExportInput!) { createBatchExport(input: $input) { ${EXPORT} } }`,
  updateBatchExport: `mutation ($input: UpdateBatchExportInput!) { updateBatchExport(input: $input) { ${EXPORT} } }`,
  pauseBatchExport: `mutation ($id: ID!) { pauseBatchExport(id: $id) { ${EXPORT} } }`,
  unpauseBatchExport: `mutation ($id: ID!, $gap: Boolean!) { unpauseBatchExport(id: $id, backfillPausedGap: $gap) { ${EXPORT} } }`,
  deleteBatchExport: 'mutation ($id: ID!) { deleteBatchExport(id: $id) { id } }',
  previewExportSchema: `query ($model: Model!, $fields: [ExportFieldInput!], $customQuery: CustomQueryInput, $rows: Int!) {
    previewExportSchema(model: $model, fields: $fields, customQuery: $customQuery, rows: $rows) { columns { name type nullable } key versionColumns rows } }`,

  runs: `query ($id: ID!, $first: Int, $after: String, $status: [RunStatus!], $from: DateTimeISO, $to: DateTimeISO) {
    runs(batchExportId: $id, first: $first, after: $after, status: $status, intervalFrom: $from, intervalTo: $to) { edges { cursor node { ${RUN} } } pageInfo { endCursor hasNextPage } } }`,
  retryRun: `mutation ($id: ID!) { retryRun(id: $id) { ${RUN} } }`,
  retryFailedRuns: 'mutation ($id: ID!, $startAt: DateTimeISO!, $endAt: DateTimeISO!) { retryFailedRuns(batchExportId: $id, startAt: $startAt, endAt: $endAt) }',
  cancelRun: `mutation ($id: ID!) { cancelRun(id: $id) { ${RUN} } }`,
  runUpdated: `subscription ($id: ID) { runUpdated(batchExportId: $id) { ${RUN} } }`,
  logs: `query ($runId: ID, $exportId: ID, $first: Int, $after: String, $level: [LogLevel!], $search: String) {
    logs(runId: $runId, batchExportId: $exportId, first: $first, after: $after, level: $level, search: $search) { edges { node { id level message timestamp runId } } pageInfo { endCursor hasNextPage } } }`,

  backfill: `query ($id: ID!) { backfill(id: $id) { ${BACKFILL} } }`,
  backfills: `query ($id: ID!) { backfills(batchExportId: $id, first: ${ALL}) { edges { node { ${BACKFILL} } } } }`,
  estimateBackfill: 'query ($id: ID!, $startAt: DateTimeISO, $endAt: DateTimeISO!, $fromFirstEvent: Boolean) { estimateBackfill(batchExportId: $id, startAt: $startAt, endAt: $endAt, fromFirstEvent: $fromFirstEvent) { runs rows bytes seconds secondsPerRun rowsPerSecond calibrationRuns } }',
  createBackfill: `mutation ($id: ID!, $startAt: DateTimeISO, $endAt: DateTimeISO!, $fromFirstEvent: Boolean) { createBackfill(input: { batchExportId: $id, startAt: $startAt, endAt: $endAt, fromFirstEvent: $fromFirstEvent }) { ${BACKFILL} } }`,
  cancelBackfill: `mutation ($id: ID!) { cancelBackfill(id: $id) { ${BACKFILL} } }`,
  backfillProgress: `subscription ($id: ID!) { backfillProgress(backfillId: $id) { ${BACKFILL} } }`,
};

/** Runs in these states are over: they can be retried, not cancelled. */
export const FINAL_RUN_STATES = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);
export const FAILED_RUN_STATES = new Set(['FAILED', 'TIMED_OUT', 'FAILED_RETRYABLE']);

export type ExportHealth = 'active' | 'paused' | 'failing';

/** Paused wins; otherwise failing when the newest run with an outcome failed (or is retrying after a failure). */
export function exportHealth(e: Pick<BatchExport, 'paused' | 'latestRuns'>): ExportHealth {
  if (e.paused) return 'paused';
  const latest = e.latestRuns.find((r) => r.status !== 'STARTING' && r.status !== 'RUNNING');
  return latest && FAILED_RUN_STATES.has(latest.status) ? 'failing' : 'active';
}
