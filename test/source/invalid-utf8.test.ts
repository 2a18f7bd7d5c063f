/**
 * Invalid UTF-8 in ClickHouse Strings: replaced by the documented rule (each run of invalid bytes becomes one
 * U+FFFD, as ClickHouse toValidUTF8) and counted per column, in every model that carries text.
 */
import { EVENTS_SCHEMA, MODEL_SCHEMAS, ReplacementCounter } from '../../src/sdk';
import { generateEvents, insertEvents } from '../../src/source/generator';
import { INVALID_UTF8_MASK_COLUMN } from '../../src/source/utf8';
import { insertEventsWithRawBytes } from '../support/invalid-utf8';
import { collect, createTestClickHouse } from './support/clickhouse';

const S = new Date('2024-05-01T00:00:00Z');
const interval = { start: S, end: new Date(S.getTime() + 3_600_000) };

describe('ClickHouseSource: invalid UTF-8', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  beforeAll(async () => {
    ctx = await createTestClickHouse('src_utf8');
    const [a, b, c, clean] = generateEvents({ seed: 5, count: 4, teamId: 1, start: S, stepMicros: 1_000_000 });
    await insertEventsWithRawBytes(ctx.client, ctx.database, [
      { ...a, distinct_id: 'bad<<FF>>x<<C328>>', properties: '{"a":"<<FEFF>>","$session_id":"s1","$set":{"n":"<<C0>>"}}' },
      { ...b, elements_chain: 'chain<<EDA080>>', properties: '{"$session_id":"s1","$current_url":"https://x/<<FF>>"}' },
      { ...c, person_properties: '{"name":"<<80>>"}' },
    ]);
    await insertEvents(ctx.client, { database: ctx.database }, [clean]);
  });
  afterAll(() => ctx.drop());

  it('replaces each run of invalid bytes by one U+FFFD and counts the values per column (events)', async () => {
    const counter = new ReplacementCounter();
    const rows = await collect(ctx.source.stream({ teamId: 1, model: 'events', interval }, { replacements: counter, batchSize: 2 }));
    expect(rows).toHaveLength(4);
    const byDistinct = new Map(rows.map((r) => [r.distinct_id, r]));
    const bad = byDistinct.get('bad\uFFFDx\uFFFD(')!;
    expect(bad).toBeDefined();
    expect(JSON.parse(bad.properties as string).a).toBe('\uFFFD');
    expect(rows.some((r) => r.elements_chain === 'chain\uFFFD')).toBe(true);
    for (const r of rows) expect(Object.keys(r)).toEqual(EVENTS_SCHEMA.columns.map((c) => c.name));
    expect(rows.every((r) => !(INVALID_UTF8_MASK_COLUMN in r))).toBe(true);
    expect(counter.list()).toEqual([
      { column: 'distinct_id', rule: 'invalid_utf8', count: 1 },
      { column: 'elements_chain', rule: 'invalid_utf8', count: 1 },
      { column: 'person_properties', rule: 'invalid_utf8', count: 1 },
      { column: 'properties', rule: 'invalid_utf8', count: 2 },
    ]);
  });

  it('JSON-derived values read documents holding invalid UTF-8 (set, filters, sessions)', async () => {
    const rows = await collect(ctx.source.stream({ teamId: 1, model: 'events', interval }));
    const bad = rows.find((r) => String(r.distinct_id).startsWith('bad'))!;
    expect(JSON.parse(bad.set as string)).toEqual({ n: '\uFFFD' });
    const filtered = await collect(
      ctx.source.stream({ teamId: 1, model: 'events', interval, filters: [{ key: '$session_id', operator: 'exact', value: 's1' }] }),
    );
    expect(filtered).toHaveLength(2);
    const excluded = await collect(
      ctx.source.stream({ teamId: 1, model: 'events', interval, filters: [{ key: '$session_id', operator: 'is_not', value: 's1' }] }),
    );
    expect(excluded).toHaveLength(2);
    const [session] = (await collect(ctx.source.stream({ teamId: 1, model: 'sessions', interval }))).filter((r) => r.session_id === 's1');
    expect(session).toBeDefined();
    expect(session.exit_url).toBe('https://x/\uFFFD');
  });

  it('strips the hidden mask column from every model', async () => {
    for (const model of ['sessions', 'persons'] as const) {
      const rows = await collect(ctx.source.stream({ teamId: 1, model, interval }, { replacements: new ReplacementCounter() }));
      for (const r of rows) expect(Object.keys(r)).toEqual(MODEL_SCHEMAS[model].columns.map((c) => c.name));
    }
  });

  it('counts nothing on valid text', async () => {
    const counter = new ReplacementCounter();
    const later = { start: new Date(S.getTime() + 3_600_000), end: new Date(S.getTime() + 7_200_000) };
    await insertEvents(ctx.client, { database: ctx.database }, generateEvents({ seed: 6, count: 20, teamId: 1, start: later.start, stepMicros: 1_000_000 }));
    expect(await collect(ctx.source.stream({ teamId: 1, model: 'events', interval: later }, { replacements: counter }))).toHaveLength(20);
    expect(counter.list()).toEqual([]);
  });
});
