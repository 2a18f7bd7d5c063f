/** The file encoders report every value they change, per column and rule (WriteResult.replacements). */
import { EVENTS_SCHEMA, type RecordBatch, type Row } from '../../src/sdk';
import { decodeJsonl, decodeParquet, encodeJsonl, encodeParquet, newEncodeStats } from '../../src/sdk/files';

const base: Row = Object.fromEntries(EVENTS_SCHEMA.columns.map((c) => [c.name, c.nullable ? null : c.type === 'int' ? 1 : c.type === 'timestamp' ? '2024-01-01T00:00:00.000000Z' : 'x']));
const rows: Row[] = [
  { ...base, uuid: 'a', properties: '{not json', person_properties: '{"raw":"lone \uD800"}', elements_chain: 'lone \uDC00 in text' },
  { ...base, uuid: 'b', properties: 'also not json', set: '{"escaped":"\\ud800"}' },
  { ...base, uuid: 'c', properties: '{"ok":1}' },
];
async function* batches(): AsyncGenerator<RecordBatch> {
  yield { rows, sizeBytes: 0 };
}
async function bytesOf(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}
const plain = (list: { column: string; rule: string; count: number }[]) => list.map(({ column, rule, count }) => ({ column, rule, count }));

describe('file encoders report replacements', () => {
  it('JSON Lines: invalid JSON as strings and raw lone surrogates in JSON, per column; escapes and text kept', async () => {
    const stats = newEncodeStats();
    const back = decodeJsonl(await bytesOf(encodeJsonl(batches(), EVENTS_SCHEMA, 'none', stats)), EVENTS_SCHEMA);
    expect(plain(stats.replacements.list())).toEqual([
      { column: 'properties', rule: 'invalid_json_as_string', count: 2 },
      { column: 'person_properties', rule: 'lone_surrogate', count: 1 },
    ]);
    expect(stats.invalidJson).toBe(2);
    expect(JSON.parse(back[0].person_properties as string)).toEqual({ raw: 'lone \uFFFD' });
    expect(back[0].elements_chain).toBe('lone \uDC00 in text'); // JSON.stringify escapes it: lossless
    expect(JSON.parse(back[1].set as string)).toEqual({ escaped: '\ud800' });
  });

  it('Parquet: lone surrogates in text columns become U+FFFD and are counted per column', async () => {
    const stats = newEncodeStats();
    const back = await decodeParquet(await bytesOf(encodeParquet(batches(), EVENTS_SCHEMA, { compression: 'none' }, stats)), EVENTS_SCHEMA);
    expect(plain(stats.replacements.list())).toEqual([
      { column: 'elements_chain', rule: 'lone_surrogate', count: 1 },
      { column: 'person_properties', rule: 'lone_surrogate', count: 1 },
    ]);
    expect(back[0].elements_chain).toBe('lone \uFFFD in text');
    expect(back[1].properties).toBe('also not json'); // Parquet keeps json columns as text: nothing to replace
  });
});
