/** Field selection on the models: exactly the chosen columns, renamed, and values extracted from JSON by type. */
import { generateEvents, insertEvents, isoMicros, microsOf } from '../../src/source/generator';
import { FieldSelectionError, fieldsSchema, type FieldSelection } from '../../src/source/fields';
import type { SourceQuery } from '../../src/source/source';
import { collect, createTestClickHouse } from './support/clickhouse';

const S = new Date('2024-06-01T00:00:00Z');
const interval = { start: S.toISOString(), end: new Date(S.getTime() + 3_600_000).toISOString() };

describe('ClickHouseSource: field selection', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  const events = generateEvents({ seed: 51, count: 12, teamId: 1, start: S }).map((e, i) => ({
    ...e,
    properties: JSON.stringify({ ...JSON.parse(e.properties), n: i, flag: i % 2 === 0, when: '2024-06-01T10:00:00.5Z', nested: { plan: `p${i}` } }),
  }));

  beforeAll(async () => {
    ctx = await createTestClickHouse('src_fields');
    await insertEvents(ctx.client, { database: ctx.database }, events);
  });
  afterAll(() => ctx.drop());

  const fields: FieldSelection[] = [
    { source: 'team_id' },
    { source: 'uuid', alias: 'id' },
    { source: 'event' },
    { source: 'properties.$browser', alias: 'browser' },
    { source: 'properties.n', alias: 'n', type: 'number' },
    { source: 'properties.flag', alias: 'flag', type: 'boolean' },
    { source: 'properties.when', alias: 'when_at', type: 'timestamp' },
    { source: 'properties.nested', alias: 'nested', type: 'json' },
    { source: 'properties.nested.plan', alias: 'plan' },
    { source: 'properties.missing', alias: 'missing' },
  ];

  it('lands exactly the chosen columns, renamed and extracted', async () => {
    const q: SourceQuery = { teamId: 1, model: 'events', interval, fields };
    const schema = await ctx.source.exportSchema(q);
    expect(schema.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'team_id:int', 'id:string', 'event:string', 'browser:string', 'n:float', 'flag:bool', 'when_at:timestamp', 'nested:json', 'plan:string', 'missing:string',
    ]);
    expect(schema.key).toEqual(['team_id', 'id']);
    const rows = await collect(ctx.source.stream(q));
    expect(await ctx.source.count(q)).toBe(rows.length);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.size).toBe(events.length);
    for (const [i, e] of events.entries()) {
      const p = JSON.parse(e.properties);
      expect(byId.get(e.uuid)).toEqual({
        team_id: 1, id: e.uuid, event: e.event, browser: p.$browser, n: i, flag: i % 2 === 0,
        when_at: isoMicros(microsOf('2024-06-01T10:00:00.500000Z')), nested: `{"plan":"p${i}"}`, plan: `p${i}`, missing: null,
      });
    }
  });

  it('refuses a selection that drops a key column, names an unknown column, or extracts without a name', () => {
    expect(() => fieldsSchema('events', [{ source: 'team_id' }, { source: 'event' }])).toThrow(/key column uuid must be selected/);
    expect(() => fieldsSchema('persons', [{ source: 'team_id' }, { source: 'distinct_id' }])).toThrow(/version column person_distinct_id_version must be selected/);
    expect(() => fieldsSchema('events', [{ source: 'browser' }])).toThrow(FieldSelectionError);
    expect(() => fieldsSchema('events', [{ source: 'properties.$browser' }])).toThrow(/fields\[0\]\.alias: a JSON path needs a column name/);
    expect(() => fieldsSchema('events', [{ source: 'event.x', alias: 'x' }])).toThrow(/event is not a JSON column/);
    expect(() => fieldsSchema('events', [{ source: 'uuid', alias: 'bad name' }])).toThrow(/fields\[0\]\.alias/);
    expect(() => fieldsSchema('events', [{ source: 'team_id' }, { source: 'uuid' }, { source: 'event', alias: 'uuid' }])).toThrow(/already produced by fields\[1\]/);
  });
});
