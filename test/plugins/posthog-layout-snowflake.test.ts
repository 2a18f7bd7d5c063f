/**
 * Layout POSTHOG against Snowflake (issue 14 item 4): an events table made as PostHog's Snowflake batch export makes
 * it (STRING, INTEGER, VARIANT documents incl. people_set/people_set_once, TIMESTAMP = TIMESTAMP_NTZ) keeps its rows
 * and columns and takes a run and its retry exactly once.
 */
import plugin from '../../plugins/snowflake';
import { SnowflakeSession } from '../../plugins/snowflake/connection';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import type { Row } from '../../src/sdk';
import { fieldsSchema } from '../../src/source/fields';
import { layoutFields } from '../../src/source/posthog-layout';
import type { FakeSnowflake } from '../fakes/snowflake/server';
import { freshConfig, startFake } from '../conformance/fixtures/snowflake';

let fake: FakeSnowflake;
beforeAll(async () => {
  fake = await startFake();
}, 60_000);
afterAll(() => fake?.stop());

const interval = hourInterval(0);
const row = (i: number): Row => ({
  uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, event: 'clicked', properties: `{"$ip":"10.0.0.${i}"}`, elements: JSON.stringify('button:text="Buy"'),
  people_set: null, people_set_once: '{"first":"x"}', distinct_id: `user-${i}`, team_id: 2, ip: `10.0.0.${i}`, site_url: '',
  timestamp: new Date(interval.start.getTime() + i * 1000).toISOString().replace('Z', '000Z'),
});

it('a PostHog-made Snowflake events table keeps its rows and columns and takes a run and its retry once', async () => {
  const config = { ...(await freshConfig(fake)), table_name: 'EVENTS' };
  const target = `"ANALYTICS"."${config.schema}"."EVENTS"`;
  const session = await SnowflakeSession.open(config);
  // PostHog's DDL, in the types Snowflake reports for it (STRING = VARCHAR(16777216), INTEGER = NUMBER(38,0), TIMESTAMP = TIMESTAMP_NTZ).
  await session.query(`CREATE TABLE IF NOT EXISTS ${target} ("UUID" VARCHAR, "EVENT" VARCHAR, "PROPERTIES" VARIANT, "ELEMENTS" VARIANT, "PEOPLE_SET" VARIANT, "PEOPLE_SET_ONCE" VARIANT, "DISTINCT_ID" VARCHAR, "TEAM_ID" NUMBER(38,0), "IP" VARCHAR, "SITE_URL" VARCHAR, "TIMESTAMP" TIMESTAMP_NTZ(9))`);
  const before = await session.query(`DESCRIBE TABLE ${target}`);

  const schema = fieldsSchema('events', layoutFields('POSTHOG', 'events', 'snowflake', null));
  const rows = Array.from({ length: 25 }, (_, i) => row(i));
  const ctx = (attempt: number) => ({ ...runContext({ model: 'events', interval, runId: 'posthog-run', attempt }), schema, layout: 'POSTHOG' as const });
  await plugin.write(config, ctx(1), stream(toBatches(rows)));
  await plugin.write(config, ctx(2), stream(toBatches(rows)));

  expect(await session.query(`DESCRIBE TABLE ${target}`)).toEqual(before);
  await session.close();
  const landed = await fake.readTable('ANALYTICS', config.schema, 'EVENTS');
  expect(landed.map((r) => r.UUID).sort()).toEqual(rows.map((r) => r.uuid));
  const one = landed.find((r) => r.UUID === rows[3].uuid)!;
  expect(one).toMatchObject({ IP: '10.0.0.3', SITE_URL: '' });
}, 120_000);
