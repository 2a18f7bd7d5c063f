/**
 * Documents holding lone surrogate escapes (`"Buy now \ud83d"`, what JSON.stringify writes for a string cut inside a
 * surrogate pair) are valid JSON; every value ClickHouse derives from them must treat them as such, reading each
 * lone surrogate as U+FFFD, while the exported raw text stays byte for byte.
 */
import type { Row } from '../../src/sdk/models';
import { generateEvents, insertEvents, isoMicros, microsOf, prng, type SourceEvent } from '../../src/source/generator';
import type { SourceQuery } from '../../src/source/source';
import { collect, createTestClickHouse } from './support/clickhouse';

const S = new Date('2024-03-01T00:00:00Z');
const H = 3_600_000_000;
const at = (us: number) => isoMicros(microsOf(S) + us);

/** What a reader that decodes lone surrogates as U+FFFD (TextDecoder, Python 'replace') sees. */
const wellFormedText = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
function wellFormed(v: unknown): unknown {
  if (typeof v === 'string') return wellFormedText(v);
  if (Array.isArray(v)) return v.map(wellFormed);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [wellFormedText(k), wellFormed(x)]));
  return v;
}

describe('ClickHouseSource: documents with lone surrogate escapes', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;
  const base = generateEvents({ seed: 41, count: 40, teamId: 1, start: S, stepMicros: 60_000_000 });
  const lone: SourceEvent[] = [
    // A high surrogate cut at the end of a string, with $set and $set_once.
    { title: 'Buy now \ud83d', $browser: 'Chrome', amount: 600, $current_url: 'https://example.com/pricing', $set: { name: 'Ann \ud83d' }, $set_once: { x: '\ude00' } },
    // In a key.
    { ['k\udc00']: 1, $browser: 'Safari', amount: 10 },
    // Nested in arrays and objects, next to a valid pair.
    { $browser: 'Chrome', nested: { a: ['\ud800', { c: '\udfff' }] }, ok: 'pair 😀', amount: 650 },
    // Text that looks like an escape behind an escaped backslash (not a surrogate), then a real lone one.
    { $browser: 'Firefox', t: '\\ud83d and \\\ud83d', amount: 900 },
    // Several adjacent lone surrogates around a valid pair.
    { $browser: 'Firefox', t: '\ud83d\ud83d\ude00\ude00\udc00', $set: { k: '\udbff\udbff' } },
  ].map((props, i) => ({
    ...base[i],
    uuid: `00000000-0000-4000-a000-00000000000${i}`,
    properties: JSON.stringify(props),
    person_properties: JSON.stringify(i === 0 ? { email: 'ann@example.com', nick: '\ud83d' } : { email: `p${i}@example.com` }),
  }));
  const events = [...lone, ...base.slice(lone.length)];

  beforeAll(async () => {
    ctx = await createTestClickHouse('src_surrogates');
    await insertEvents(ctx.client, { database: ctx.database }, events);
  });
  afterAll(() => ctx.drop());

  const run = async (q: Partial<SourceQuery>): Promise<Row[]> => {
    const query: SourceQuery = { teamId: 1, model: 'events', interval: { start: at(0), end: at(2 * H) }, ...q };
    const rows = await collect(ctx.source.stream(query));
    expect(await ctx.source.count(query)).toBe(rows.length);
    return rows;
  };
  const props = (e: SourceEvent) => wellFormed(JSON.parse(e.properties)) as Record<string, unknown>;
  const personProps = (e: SourceEvent) => wellFormed(JSON.parse(e.person_properties)) as Record<string, unknown>;

  it('the test documents really hold lone surrogate escapes', () => {
    for (const e of lone) expect(e.properties + e.person_properties).toMatch(/(?<!\\)(\\\\)*\\u[dD][89a-fA-F]/);
  });

  it('applies every filter operator to such documents, positive and negative', async () => {
    const cases: [SourceQuery['filters'], (e: SourceEvent) => boolean][] = [
      [[{ key: '$browser', operator: 'exact', value: 'Chrome' }], (e) => props(e).$browser === 'Chrome'],
      [[{ key: 'title', operator: 'exact', value: 'Buy now \uFFFD' }], (e) => props(e).title === 'Buy now \uFFFD'],
      // A filter value holding the same lone surrogate reads it the same way.
      [[{ key: 'title', operator: 'exact', value: 'Buy now \ud83d' }], (e) => props(e).title === 'Buy now \uFFFD'],
      [[{ key: '$browser', operator: 'is_not', value: ['Chrome', 'Safari'] }], (e) => !['Chrome', 'Safari'].includes(props(e).$browser as string)],
      [[{ key: 'title', operator: 'icontains', value: 'BUY NOW' }], (e) => String(props(e).title ?? '').includes('Buy now')],
      [[{ key: '$current_url', operator: 'not_icontains', value: 'PRICING' }], (e) => !String(props(e).$current_url).includes('pricing')],
      [[{ key: 't', operator: 'regex', value: '^\\\\ud83d and \\\\\uFFFD$' }], (e) => props(e).t === '\\ud83d and \\\uFFFD'],
      [[{ key: 'k\uFFFD', operator: 'is_set' }], (e) => 'k\uFFFD' in props(e)],
      [[{ key: 'nested', operator: 'is_not_set' }], (e) => !('nested' in props(e))],
      [[{ key: 'amount', operator: 'gt', value: 500 }, { key: 'amount', operator: 'lt', value: 800 }], (e) => (props(e).amount as number) > 500 && (props(e).amount as number) < 800],
      [[{ key: '$browser', operator: 'exact', value: 'Firefox', type: 'event' }, { key: 'email', operator: 'exact', value: 'p4@example.com', type: 'person' }], (e) => props(e).$browser === 'Firefox' && personProps(e).email === 'p4@example.com'],
      [[{ key: 'email', operator: 'is_not', value: 'ann@example.com', type: 'person' }], (e) => personProps(e).email !== 'ann@example.com'],
      [[{ key: 'nick', operator: 'exact', value: '\uFFFD', type: 'person' }], (e) => personProps(e).nick === '\uFFFD'],
    ];
    for (const [filters, keep] of cases) {
      const rows = await run({ filters });
      const want = events.filter(keep).map((e) => e.uuid).sort();
      expect({ filters, uuids: rows.map((r) => r.uuid).sort() }).toEqual({ filters, uuids: want });
      // Each case keeps at least one document with lone surrogates.
      expect({ filters, keepsLone: lone.some(keep) }).toEqual({ filters, keepsLone: true });
    }
  });

  it('derives set and set_once from such documents (lone surrogates as U+FFFD) and keeps the raw text byte for byte', async () => {
    const rows = await run({});
    expect(rows).toHaveLength(events.length);
    for (const e of events) {
      const row = rows.find((r) => r.uuid === e.uuid)!;
      const p = props(e);
      expect(row.properties).toBe(e.properties);
      expect(row.person_properties).toBe(e.person_properties);
      expect({ uuid: e.uuid, set: row.set === null ? null : JSON.parse(row.set as string) }).toEqual({ uuid: e.uuid, set: p.$set ?? null });
      expect({ uuid: e.uuid, set_once: row.set_once === null ? null : JSON.parse(row.set_once as string) }).toEqual({ uuid: e.uuid, set_once: p.$set_once ?? null });
    }
  });

  it('repairs escapes exactly, whatever the mix of backslashes, surrogates and text', async () => {
    const rand = prng(5);
    const parts = ['\ud83d', '\ude00', '\ud83d\ude00', '\\', '\\\\', 'u', 'd83d', 'ude00', '"', 'é', 'x', '\u0001', '\ufffd'];
    const fuzz = Array.from({ length: 300 }, (_, i) => {
      const value = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => parts[Math.floor(rand() * parts.length)]).join('');
      return { ...base[0], uuid: `00000000-0000-4000-b000-${String(i).padStart(12, '0')}`, team_id: 7, properties: JSON.stringify({ $set: { [value]: value } }) };
    });
    await insertEvents(ctx.client, { database: ctx.database }, fuzz);
    const rows = await collect(ctx.source.stream({ teamId: 7, model: 'events', interval: { start: at(0), end: at(2 * H) } }));
    expect(rows).toHaveLength(fuzz.length);
    for (const e of fuzz) {
      const row = rows.find((r) => r.uuid === e.uuid)!;
      expect(row.properties).toBe(e.properties);
      expect({ doc: e.properties, set: JSON.parse(row.set as string) }).toEqual({ doc: e.properties, set: props(e).$set });
    }
  });

  it('keeps events with such documents in their sessions, with their URLs and utm values', async () => {
    const session = (i: number, p: Record<string, unknown>, sid = 'sess-a') => ({
      ...base[i],
      team_id: 5,
      uuid: `00000000-0000-4000-c000-00000000000${i}`,
      event: '$pageview',
      properties: JSON.stringify({ $session_id: sid, ...p }),
    });
    const sessionEvents = [
      session(0, { $current_url: 'https://example.com/a\ud83d', utm_source: 'news\udc00' }),
      session(1, { $current_url: 'https://example.com/b', bad: '\ud800' }),
      session(2, { $current_url: 'https://example.com/c\udfff' }),
      session(3, { $current_url: 'https://example.com/z', title: '\ud83d' }, 'sess-\ud83d'),
    ];
    await insertEvents(ctx.client, { database: ctx.database }, sessionEvents);
    const q: SourceQuery = { teamId: 5, model: 'sessions', interval: { start: at(0), end: at(2 * H) } };
    const rows = await collect(ctx.source.stream(q));
    expect(await ctx.source.count(q)).toBe(2);
    expect((await ctx.source.estimate(q)).rows).toBe(2);
    expect(rows.map((r) => ({ id: r.session_id, entry: r.entry_url, exit: r.exit_url, pageviews: r.pageview_count, utm: r.utm_source }))).toEqual([
      { id: 'sess-a', entry: 'https://example.com/a\uFFFD', exit: 'https://example.com/c\uFFFD', pageviews: 3, utm: 'news\uFFFD' },
      { id: 'sess-\uFFFD', entry: 'https://example.com/z', exit: 'https://example.com/z', pageviews: 1, utm: null },
    ]);
  });

  it('estimates with the same filters as the run, on such documents too', async () => {
    const filters: SourceQuery['filters'] = [{ key: '$browser', operator: 'is_not', value: 'Chrome' }];
    const est = await ctx.source.estimate({ teamId: 1, model: 'events', interval: { start: at(0), end: at(2 * H) }, filters });
    expect(est.rows).toBe((await run({ filters })).length);
  });
});
