/**
 * Layout POSTHOG against BigQuery (issue 14 item 4): an events table made as PostHog's BigQuery batch export makes it
 * (STRING documents, INT64 team_id, bq_ingested_timestamp, partitioned by DAY(timestamp)), holding rows PostHog
 * wrote, receives a run and its retry exactly once, keeps its rows and its schema.
 */
import { BigQuery } from '@google-cloud/bigquery';
import plugin from '../../plugins/bigquery';
import { ServiceAccountTokens } from '../../plugins/bigquery/auth';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import type { Row } from '../../src/sdk';
import { fieldsSchema } from '../../src/source/fields';
import { layoutFields } from '../../src/source/posthog-layout';
import { FakeBigQuery } from '../fakes/bigquery';

let fake: FakeBigQuery;
beforeAll(async () => {
  fake = await FakeBigQuery.start();
}, 60_000);
afterAll(() => fake?.stop());

/** PostHog's BigQuery events table (use_json_type off). */
const POSTHOG_FIELDS = [
  ['uuid', 'STRING'], ['event', 'STRING'], ['properties', 'STRING'], ['elements', 'STRING'], ['set', 'STRING'], ['set_once', 'STRING'],
  ['distinct_id', 'STRING'], ['team_id', 'INT64'], ['ip', 'STRING'], ['site_url', 'STRING'], ['timestamp', 'TIMESTAMP'], ['bq_ingested_timestamp', 'TIMESTAMP'],
].map(([name, type]) => ({ name, type }));

const interval = hourInterval(0);
const row = (i: number, event = 'clicked'): Row => ({
  uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, event, properties: `{"$ip":"10.0.0.${i}"}`, elements: JSON.stringify('button:text="Buy"'),
  set: null, set_once: null, distinct_id: `user-${i}`, team_id: 2, ip: `10.0.0.${i}`, site_url: '',
  timestamp: new Date(interval.start.getTime() + i * 1000).toISOString().replace('Z', '000Z'), bq_ingested_timestamp: '2026-04-01T00:00:00.000000Z',
});

it('a PostHog-made BigQuery events table keeps its rows and schema and takes a run and its retry once', async () => {
  await fake.createDataset('posthog');
  const key = fake.serviceAccountKey();
  const config = plugin.configSchema.parse({ project_id: fake.projectId, dataset_id: 'posthog', table_id: 'events', credentials_json: JSON.stringify(key), api_endpoint: fake.url });
  const bq = new BigQuery({ projectId: fake.projectId, apiEndpoint: fake.url, authClient: new ServiceAccountTokens(key) as never, autoRetry: false });
  const [table] = await bq.dataset('posthog').createTable('events', { schema: { fields: POSTHOG_FIELDS }, timePartitioning: { type: 'DAY', field: 'timestamp' } });
  const old = { ...row(900, 'written by posthog'), timestamp: '2025-01-01T00:00:00.000000Z' };
  await new Promise((resolve, reject) => {
    const w = table.createWriteStream({ sourceFormat: 'NEWLINE_DELIMITED_JSON' });
    w.on('complete', resolve).on('error', reject);
    w.end(JSON.stringify(old) + '\n');
  });

  const schema = fieldsSchema('events', layoutFields('POSTHOG', 'events', 'bigquery', null));
  expect(schema.columns.map((c) => c.name)).toEqual(POSTHOG_FIELDS.map((f) => f.name));
  const rows = Array.from({ length: 30 }, (_, i) => row(i));
  const ctx = (attempt: number) => ({ ...runContext({ model: 'events', interval, runId: 'posthog-run', attempt }), schema, layout: 'POSTHOG' as const });
  await plugin.write(config, ctx(1), stream(toBatches(rows)));
  await plugin.write(config, ctx(2), stream(toBatches(rows)));

  const [meta] = await table.getMetadata();
  expect(meta.schema.fields.map((f: { name: string; type: string }) => [f.name, f.type === 'INTEGER' ? 'INT64' : f.type])).toEqual(POSTHOG_FIELDS.map((f) => [f.name, f.type]));
  const [landed] = await table.getRows({ maxResults: 500 });
  expect(landed).toHaveLength(31);
  expect(new Set(landed.map((r: Record<string, unknown>) => r.uuid)).size).toBe(31);
  const kept = landed.find((r: Record<string, unknown>) => r.event === 'written by posthog') as Record<string, unknown>;
  expect(kept).toMatchObject({ uuid: old.uuid, properties: old.properties, elements: old.elements, ip: old.ip, site_url: '' });
  const one = landed.find((r: Record<string, unknown>) => r.uuid === rows[3].uuid) as Record<string, unknown>;
  expect(one).toMatchObject({ elements: '"button:text=\\"Buy\\""', ip: '10.0.0.3', site_url: '', properties: '{"$ip":"10.0.0.3"}' });
}, 120_000);
