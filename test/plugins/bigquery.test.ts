/** The BigQuery plugin against the fake BigQuery server (real SDK, real Postgres underneath). */
import { randomUUID } from 'node:crypto';
import plugin from '../../plugins/bigquery';
import type { BigQueryConfig } from '../../plugins/bigquery/config';
import { stageTableId } from '../../plugins/bigquery';
import { diffRows } from '../../src/sdk/conformance';
import { eventRows, personRow } from '../../src/sdk/conformance/rows';
import { classifiedFailure, hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import { MODEL_SCHEMAS, isDestinationError } from '../../src/sdk';
import type { Model, Row } from '../../src/sdk';
import { FakeBigQuery } from '../fakes/bigquery';
import { readTable } from '../conformance/fixtures/bigquery';

let fake: FakeBigQuery;
let n = 0;

beforeAll(async () => {
  fake = await FakeBigQuery.start();
}, 60_000);
afterAll(async () => {
  await fake?.stop();
});
afterEach(() => fake.clearFailures());

async function freshConfig(overrides: Partial<BigQueryConfig> = {}): Promise<BigQueryConfig> {
  const dataset = `plugin_${++n}`;
  await fake.createDataset(dataset);
  return plugin.configSchema.parse({
    project_id: fake.projectId,
    dataset_id: dataset,
    credentials_json: JSON.stringify(fake.serviceAccountKey()),
    api_endpoint: fake.url,
    ...overrides,
  });
}

const interval = hourInterval(0);
const write = (config: BigQueryConfig, model: Model, rows: Row[], runId = `run-${randomUUID()}`, attempt = 1) =>
  plugin.write(config, runContext({ model, interval, runId, attempt }), stream(toBatches(rows)));

describe('BigQuery plugin', () => {
  it('lands a retried run once: attempt 1 fails at the MERGE, attempt 2 replaces it, and the stage is dropped', async () => {
    const config = await freshConfig();
    const rows = eventRows(interval, 0, 120);
    const runId = `retry-${randomUUID()}`;
    // The load succeeds, then the MERGE query job is refused: the stage is full when the attempt fails.
    fake.failNext(1, { status: 503, reason: 'backendError', message: 'Error encountered during execution. Retrying may solve the problem.', match: (r) => r.kind === 'job.insert' });
    const err = await classifiedFailure(plugin, () => write(config, 'events', rows, runId, 1));
    expect(err.kind).toBe('retryable');
    expect(fake.requests.some((r) => r.kind === 'job.upload' && r.status === 200)).toBe(true);
    expect(await fake.listTables(config.dataset_id)).toEqual(['events']);
    expect(await readTable(fake, config, 'events')).toHaveLength(0);

    const second = await write(config, 'events', rows, runId, 2);
    const third = await write(config, 'events', rows, runId, 3);
    const otherRun = await write(config, 'events', rows.slice(0, 50));
    expect([second.rowsLanded, third.rowsLanded, otherRun.rowsLanded]).toEqual([120, 120, 50]);
    const landed = await readTable(fake, config, 'events');
    expect(landed).toHaveLength(120);
    expect(diffRows(MODEL_SCHEMAS.events, rows, landed)).toEqual([]);
    expect(await fake.listTables(config.dataset_id)).toEqual(['events']);
  });

  it('creates the events table partitioned by DAY(timestamp) and clustered by its key', async () => {
    const config = await freshConfig();
    await write(config, 'events', eventRows(interval, 0, 3));
    const res = await fetch(`${fake.url}/bigquery/v2/projects/${fake.projectId}/datasets/${config.dataset_id}/tables/events`, {
      headers: { authorization: `Bearer ${await tokenFor(config)}` },
    });
    const table = await res.json();
    expect(table.timePartitioning).toEqual({ type: 'DAY', field: 'timestamp' });
    expect(table.clustering).toEqual({ fields: ['team_id', 'uuid'] });
    // The MERGE ran with the stage's timestamp range, so BigQuery can prune partitions.
    expect(fake.queries.some((q) => /^MERGE INTO/.test(q) && /BETWEEN TIMESTAMP '2024-03-01 /.test(q))).toBe(true);
  });

  it('classifies quota and rate limits (403) and 5xx as retryable, with a wait for quotas', async () => {
    const config = await freshConfig();
    for (const reason of ['quotaExceeded', 'rateLimitExceeded']) {
      fake.failNext(1, { status: 403, reason, message: 'Quota exceeded: Your project exceeded quota for imports per project.', match: (r) => r.kind === 'job.upload' });
      const err = await classifiedFailure(plugin, () => write(config, 'events', eventRows(interval, 0, 5)));
      expect(err).toMatchObject({ kind: 'retryable', code: reason });
      expect(err.retryAfterMs).toBeGreaterThan(0);
    }
    fake.failNext(1, { status: 503, reason: 'backendError' });
    expect((await classifiedFailure(plugin, () => write(config, 'events', eventRows(interval, 0, 5)))).kind).toBe('retryable');
    expect(await fake.listTables(config.dataset_id)).toEqual(['events']);
  });

  it('fails a missing dataset as a config error that names it', async () => {
    const config = { ...(await freshConfig()), dataset_id: 'no_such_dataset' };
    for (const call of [() => write(config, 'events', eventRows(interval, 0, 2)), () => plugin.testConnection(config, runContext({ model: 'events', interval }))]) {
      const err = await classifiedFailure(plugin, call);
      expect(err.kind).toBe('config');
      expect(err.code).toBe('DATASET_MISSING');
      expect(err.message).toContain(`${fake.projectId}:no_such_dataset not found`);
    }
  });

  it('fails permission denied (403 accessDenied) as config, naming the roles to grant', async () => {
    const config = await freshConfig();
    fake.failNext(1, { status: 403, reason: 'accessDenied', message: `Access Denied: Project ${fake.projectId}: User does not have bigquery.jobs.create permission.` });
    const err = await classifiedFailure(plugin, () => write(config, 'events', eventRows(interval, 0, 2)));
    expect(err.kind).toBe('config');
    expect(err.message).toMatch(/BigQuery Job User/);
  });

  it('fails a key the token endpoint rejects (invalid_grant) as config', async () => {
    const config = await freshConfig();
    const forged = { ...JSON.parse(config.credentials_json), private_key: fake.serviceAccountKey().private_key };
    const err = await classifiedFailure(plugin, () => write({ ...config, credentials_json: JSON.stringify(forged) }, 'events', eventRows(interval, 0, 2)));
    expect(err).toMatchObject({ kind: 'config', code: 'AUTH_FAILED' });
    expect(err.message).toContain('invalid_grant: Invalid JWT Signature.');
  });

  it('refuses an existing table that holds other rows (no key column of the export), and drops nothing of it', async () => {
    const config = await freshConfig({ table_id: 'legacy' });
    await write(config, 'persons', [personRow(interval, { key: 1, personVersion: 1, tag: 'a' })]);
    const err = await classifiedFailure(plugin, () => write(config, 'events', eventRows(interval, 0, 2)));
    expect(err).toMatchObject({ kind: 'config', code: 'KEY_COLUMNS_MISSING' });
    expect(err.message).toMatch(/has no column uuid, which identifies the export's rows/);
    expect(await fake.listTables(config.dataset_id)).toEqual(['legacy']);
  });

  it('drops the stage when the load job fails on bad data (400 invalid), and reports it as permanent', async () => {
    const config = await freshConfig();
    const rows = eventRows(interval, 0, 3);
    fake.failNext(1, { status: 400, reason: 'invalid', message: 'Error while reading data, error message: JSON table encountered too many errors, giving up.', match: (r) => r.kind === 'job.upload' });
    const err = await classifiedFailure(plugin, () => write(config, 'events', rows, 'bad-data-run'));
    expect(err.kind).toBe('permanent');
    expect(await fake.listTables(config.dataset_id)).toEqual(['events']);
    expect(fake.requests.some((r) => r.kind === 'table.delete' && r.path.endsWith(stageTableId('events', 'bad-data-run')) && r.status === 204)).toBe(true);
  });

  it('stores JSON columns as BigQuery JSON with use_json_type', async () => {
    const config = await freshConfig({ use_json_type: true });
    const rows = eventRows(interval, 0, 40);
    const result = await write(config, 'events', rows);
    expect(result.rowsLanded).toBe(rows.length);
    const landed = await readTable(fake, config, 'events');
    expect(diffRows(MODEL_SCHEMAS.events, rows, landed)).toEqual([]);
    const table = await (await fetch(`${fake.url}/bigquery/v2/projects/${fake.projectId}/datasets/${config.dataset_id}/tables/events`, {
      headers: { authorization: `Bearer ${await tokenFor(config)}` },
    })).json();
    expect(table.schema.fields.find((f: { name: string }) => f.name === 'properties').type).toBe('JSON');
  });

  it('returns promptly when a run is cancelled during a stalled load, and drops the stage', async () => {
    const config = await freshConfig();
    fake.failNext(1, { status: 0, reason: 'stall', match: (r) => r.kind === 'job.upload' });
    const controller = new AbortController();
    const ctx = runContext({ model: 'events', interval, runId: 'stalled-run', signal: controller.signal });
    const pending = plugin.write(config, ctx, stream(toBatches(eventRows(interval, 0, 10)))).then(() => undefined, (e: unknown) => e);
    while (!fake.requests.some((r) => r.kind === 'table.insert' && r.path.endsWith('/tables')) || !(await fake.listTables(config.dataset_id)).includes(stageTableId('events', 'stalled-run'))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100)); // let the upload start and stall
    controller.abort(new Error('cancelled by the user'));
    const err = await pending;
    expect(err).toMatchObject({ kind: 'retryable', code: 'ABORTED' });
    expect(await fake.listTables(config.dataset_id)).toEqual(['events']);
  });

  it('returns DestinationErrors from write, never raw SDK errors', async () => {
    const config = await freshConfig();
    fake.failNext(1, { status: 500, reason: 'internalError' });
    const thrown = await write(config, 'events', eventRows(interval, 0, 1)).then(() => undefined, (e: unknown) => e);
    expect(isDestinationError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ kind: 'retryable', code: 'internalError' });
  });
});

async function tokenFor(config: BigQueryConfig): Promise<string> {
  const { ServiceAccountTokens } = await import('../../plugins/bigquery/auth');
  return new ServiceAccountTokens(JSON.parse(config.credentials_json)).accessToken();
}
