/**
 * Layout POSTHOG against Redshift (issue 14 item 4), on the Postgres stand-in: an events table made as PostHog's
 * Redshift batch export makes it (VARCHAR(200) texts, VARCHAR(65535) documents, INTEGER team_id, no key), holding a
 * row PostHog wrote, keeps it and its columns and takes a run and its retry exactly once.
 */
import { Client } from 'pg';
import redshift from '../../plugins/redshift';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import type { Row } from '../../src/sdk';
import { fieldsSchema } from '../../src/source/fields';
import { layoutFields } from '../../src/source/posthog-layout';
import { redshiftStandIn } from '../conformance/fixtures/redshift';

jest.setTimeout(120_000);
let dest: Awaited<ReturnType<typeof redshiftStandIn>>;
beforeAll(async () => {
  dest = await redshiftStandIn('rsposthog');
});
afterAll(() => dest?.drop());

const interval = hourInterval(0);
const row = (i: number): Row => ({
  uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, event: 'clicked', properties: `{"$ip":"10.0.0.${i}"}`, elements: JSON.stringify('button:text="Buy"'),
  set: null, set_once: null, distinct_id: `user-${i}`, team_id: 2, ip: `10.0.0.${i}`, site_url: '',
  timestamp: new Date(interval.start.getTime() + i * 1000).toISOString().replace('Z', '000Z'),
});

it('a PostHog-made Redshift events table keeps its row and columns and takes a run and its retry once', async () => {
  const config = { ...(await dest.freshSchema()), table_name: 'events' };
  const db = new Client({ connectionString: dest.db.url });
  await db.connect();
  try {
    const t = `${db.escapeIdentifier(config.schema)}."events"`;
    await db.query(`CREATE TABLE ${t} ("uuid" VARCHAR(200), "event" VARCHAR(200), "properties" VARCHAR(65535), "elements" VARCHAR(65535), "set" VARCHAR(65535), "set_once" VARCHAR(65535),
      "distinct_id" VARCHAR(200), "team_id" INTEGER, "ip" VARCHAR(200), "site_url" VARCHAR(200), "timestamp" TIMESTAMP WITH TIME ZONE)`);
    await db.query(`INSERT INTO ${t} VALUES ('old', 'written by posthog', '{}', NULL, NULL, NULL, 'old-user', 2, NULL, '', '2025-01-01T00:00:00Z')`);
    const columns = () => db.query(`SELECT column_name, data_type, character_maximum_length FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'events' ORDER BY ordinal_position`, [config.schema]);
    const before = (await columns()).rows;

    const schema = fieldsSchema('events', layoutFields('POSTHOG', 'events', 'redshift', null));
    const rows = Array.from({ length: 20 }, (_, i) => row(i));
    const ctx = (attempt: number) => ({ ...runContext({ model: 'events', interval, runId: 'posthog-run', attempt, expectedRows: rows.length }), schema, layout: 'POSTHOG' as const });
    await redshift.write(config, ctx(1), stream(toBatches(rows)));
    await redshift.write(config, ctx(2), stream(toBatches(rows)));

    expect((await columns()).rows).toEqual(before);
    const landed = (await db.query(`SELECT uuid, count(*)::int AS n FROM ${t} GROUP BY uuid ORDER BY uuid`)).rows;
    expect(landed).toEqual([...rows.map((r) => ({ uuid: r.uuid, n: 1 })), { uuid: 'old', n: 1 }].sort((a, b) => String(a.uuid).localeCompare(String(b.uuid))));
  } finally {
    await db.end();
  }
});
