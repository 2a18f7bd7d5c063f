/**
 * The byte path lands exactly what the row path lands: every model, every wire format and codec, on the seed
 * generator's hostile data plus invalid UTF-8, lone surrogate escapes, invalid JSON and out-of-range numbers. The
 * byte path's output is read with independent readers (zlib + JSON.parse for JSON Lines; parquet-wasm/apache-arrow
 * for Parquet), the row path's through the SDK's encoders, and compared value by value, with the replacement counts.
 */
import zlib from 'node:zlib';
import { KEY_SLICES, type WireFormat } from '../../src/sdk/destination';
import { decodeParquet, encodeJsonl, loadParquetLibs, newEncodeStats, nodeHasZstd, type JsonlCompression, type ParquetCompression } from '../../src/sdk/files';
import { MODEL_SCHEMAS, type Model, type Row } from '../../src/sdk/models';
import { ReplacementCounter, type Replacement } from '../../src/sdk/replacements';
import { generateEvents, generatePersons, hostileEvents, insertEvents, insertPersons, isoMicros, microsOf } from '../../src/source/generator';
import type { SourceQuery } from '../../src/source/source';
import { insertEventsWithRawBytes } from '../support/invalid-utf8';
import { createTestClickHouse } from './support/clickhouse';

const S = new Date('2024-03-01T00:00:00Z');
const H = 3_600_000_000;
const interval = { start: isoMicros(microsOf(S)), end: isoMicros(microsOf(S) + 2 * H) };

async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

function decompress(data: Buffer, compression: JsonlCompression): Buffer {
  if (compression === 'gzip') return zlib.gunzipSync(data);
  if (compression === 'brotli') return zlib.brotliDecompressSync(data);
  if (compression === 'zstd') return (zlib as unknown as { zstdDecompressSync(b: Buffer): Buffer }).zstdDecompressSync(data);
  return data;
}

/** Lines parsed by JSON.parse: the shape a reader of the files sees. */
function parseLines(text: string): unknown[] {
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l));
}

describe('byte path (ClickHouse encodes) lands what the row path lands', () => {
  let ctx: Awaited<ReturnType<typeof createTestClickHouse>>;

  beforeAll(async () => {
    ctx = await createTestClickHouse('src_encoded');
    const base = generateEvents({ seed: 3, count: 300, teamId: 1, start: S, stepMicros: 20_000_000 });
    const hostile = hostileEvents({ seed: 4, teamId: 1, start: new Date(S.getTime() + 1000) });
    const odd = [
      JSON.stringify({ t: 'Buy now \ud83d', $set: { name: 'Ann \ud83d' }, $session_id: 's-odd' }),
      'not json {',
      '{"n": 123456789012345678901234567890, "neg": -98765432109876543210987654321, "f": 1e400, "arr": [1e999,2]}',
      '{"a":1}\n',
      '{"wrapped":\r\n "lines"}',
      '"just a string"',
      '{"unicode":"\\u00e9\\u2028 \u2028 / \\/"}',
      '{"x": 01}',
      // Adjacent numbers beyond 64 bits: JSON.parse reads them, ClickHouse's parser does not.
      '{"ids":[123456789012345678901234567890,-123456789012345678901234567890,1e400],"m":{"a":99999999999999999999,"b":99999999999999999999}}',
    ].map((properties, i) => ({ ...base[i], uuid: `00000000-0000-4000-b000-00000000000${i}`, properties }));
    await insertEvents(ctx.client, { database: ctx.database }, [...base.slice(odd.length), ...hostile, ...odd]);
    const raw = generateEvents({ seed: 9, count: 4, teamId: 1, start: S }).map((e, i) => ({
      ...e,
      uuid: `00000000-0000-4000-c000-00000000000${i}`,
      distinct_id: `bad<<FF>>id${i}`,
      properties: i % 2 ? '{"k":"v<<C328>>"}' : '{"k<<EDA080>>":1}',
      elements_chain: 'chain<<80>>',
    }));
    await insertEventsWithRawBytes(ctx.client, ctx.database, raw);
    await insertPersons(ctx.client, { database: ctx.database }, generatePersons({ seed: 5, teamId: 1, persons: 40, start: S }));
  });
  afterAll(() => ctx.drop());

  const query = (model: Model): SourceQuery => ({ teamId: 1, model, interval, fullSnapshot: model === 'persons' });

  async function rowPath(model: Model): Promise<{ rows: Row[]; replacements: ReplacementCounter }> {
    const replacements = new ReplacementCounter();
    const rows: Row[] = [];
    for await (const b of ctx.source.stream(query(model), { replacements, batchSize: 50 })) rows.push(...b.rows);
    return { rows, replacements };
  }

  const jsonlCodecs: JsonlCompression[] = ['none', 'gzip', 'brotli', ...(nodeHasZstd() ? (['zstd'] as const) : [])];
  for (const model of ['events', 'persons', 'sessions'] as Model[]) {
    for (const compression of jsonlCodecs) {
      it(`${model}: JSON Lines (${compression}) equals the row path's file, value by value, with the same replacement counts`, async () => {
        const { rows, replacements } = await rowPath(model);
        const stats = newEncodeStats();
        const rowFile = await readAll(encodeJsonl((async function* () { yield { rows, sizeBytes: 0 }; })(), MODEL_SCHEMAS[model], 'none', stats));
        const expected = parseLines(rowFile.toString('utf8'));
        replacements.addAll(stats.replacements.list());

        const run = ctx.source.encodedRun(query(model), { format: 'jsonl', compression });
        const part = await run.open();
        const bytes = await readAll(part.chunks);
        const { rows: counted } = await part.finished();
        const actual = parseLines(decompress(bytes, compression).toString('utf8'));
        expect(counted).toBe(rows.length);
        expect((await run.stats()).rows).toBe(rows.length);
        expect(actual).toEqual(expected);
        // Byte for byte the row path's file, but for ClickHouse escaping U+2028/U+2029 in strings (JSON.stringify
        // writes them raw): both spelled raw, the files are identical.
        const raw2028 = (t: string) => t.replace(/\\u2028/g, '\u2028').replace(/\\u2029/g, '\u2029');
        const [ours, theirs] = [raw2028(decompress(bytes, compression).toString('utf8')), raw2028(rowFile.toString('utf8'))];
        expect(ours === theirs ? 'identical' : firstDifference(ours, theirs)).toBe('identical');
        expect(sorted(await run.replacements())).toEqual(sorted(replacements.list()));
        if (model === 'events') {
          // The data really is hostile: the rules fired on both paths.
          expect(replacements.countOf('invalid_utf8')).toBeGreaterThan(0);
          expect(replacements.countOf('invalid_json_as_string')).toBeGreaterThan(0);
        }
      });
    }
  }

  const parquetCodecs: ParquetCompression[] = ['none', 'zstd', 'snappy', 'gzip', 'brotli', 'lz4'];
  for (const model of ['events', 'persons', 'sessions'] as Model[]) {
    for (const compression of parquetCodecs) {
      it(`${model}: Parquet (${compression}) holds the row path's rows with the row path's column types`, async () => {
        const { rows, replacements } = await rowPath(model);
        const run = ctx.source.encodedRun(query(model), { format: 'parquet', compression });
        const part = await run.open();
        const file = await readAll(part.chunks);
        expect(file.toString('latin1').split('PAR1').length - 1).toBe(2); // one file, not one per block
        expect((await part.finished()).rows).toBe(rows.length);
        expect(await decodeParquet(file, MODEL_SCHEMAS[model])).toEqual(rows);
        expect(sorted(await run.replacements())).toEqual(sorted(replacements.list()));

        const { pq, arrow } = await loadParquetLibs();
        const table = arrow.tableFromIPC(pq.readParquet(file).intoIPCStream());
        const types = table.schema.fields.map((f) => [f.name, String(f.type), f.nullable]);
        expect(types).toEqual(MODEL_SCHEMAS[model].columns.map((c) => [c.name, arrowTypeName(c.type), c.nullable]));
        const info = await (await import('../../src/sdk/files')).parquetFileInfo(file);
        expect(new Set(info.compression)).toEqual(new Set([PARQUET_CODEC_NAMES[compression]]));
      });
    }
  }

  it('slices of the key hash space are disjoint, cover the run and are counted exactly', async () => {
    const { rows } = await rowPath('events');
    const format: WireFormat = { format: 'jsonl', compression: 'gzip' };
    const run = ctx.source.encodedRun(query('events'), format);
    const stats = await run.stats();
    const cuts = [0, 1000, 1001, 2500, KEY_SLICES];
    const seen: unknown[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const slice = { from: cuts[i], to: cuts[i + 1] };
      const part = await run.open(slice);
      const text = decompress(await readAll(part.chunks), 'gzip').toString('utf8');
      const lines = text ? parseLines(text) : [];
      expect((await part.finished()).rows).toBe(stats.rowsIn(slice));
      expect(lines.length).toBe(stats.rowsIn(slice));
      seen.push(...lines);
    }
    expect(seen.length).toBe(rows.length);
    expect(new Set(seen.map((l) => (l as { uuid: string }).uuid))).toEqual(new Set(rows.map((r) => r.uuid)));
  });

  it('a clean run is counted from its streams alone: no aggregate over the run\'s query', async () => {
    const clean = new Date(S.getTime() + 10 * H / 1000);
    await insertEvents(ctx.client, { database: ctx.database }, generateEvents({ seed: 21, count: 200, teamId: 7, start: clean, stepMicros: 1_000_000 }));
    const q: SourceQuery = { teamId: 7, model: 'events', interval: { start: isoMicros(microsOf(clean)), end: isoMicros(microsOf(clean) + H) } };
    for (const format of [{ format: 'jsonl', compression: 'gzip' }, { format: 'parquet', compression: 'zstd' }] as WireFormat[]) {
      const run = ctx.source.encodedRun(q, format, { expectedRows: await ctx.source.count(q) });
      const part = await run.open();
      await readAll(part.chunks);
      expect((await part.finished()).rows).toBe(200);
      expect(await run.replacements()).toEqual([]);
      expect(await run.exactRows()).toBeUndefined();
      expect(run.rowsStreamed()).toBe(200);
    }
    // The same rows with one invalid document: the scan finds it and its uuid's row is counted, still without an
    // aggregate over every row (the streams count themselves; the exact count is taken only for stats()).
    const [bad] = generateEvents({ seed: 22, count: 1, teamId: 7, start: clean });
    await insertEvents(ctx.client, { database: ctx.database }, [{ ...bad, uuid: '00000000-0000-4000-d000-000000000001', properties: '{oops' }]);
    const run = ctx.source.encodedRun(q, { format: 'jsonl', compression: 'gzip' }, { expectedRows: await ctx.source.count(q) });
    expect(await run.replacements()).toEqual([{ column: 'properties', rule: 'invalid_json_as_string', count: 1 }]);
    const part = await run.open();
    await readAll(part.chunks);
    expect((await part.finished()).rows).toBe(201);
    expect(await run.exactRows()).toBeUndefined();
    expect((await run.stats()).rows).toBe(201);
    expect(await run.exactRows()).toBe(201);
  });

  it('a stream cut short is never counted as complete', async () => {
    const run = ctx.source.encodedRun(query('events'), { format: 'parquet', compression: 'zstd' });
    const part = await run.open();
    for await (const chunk of part.chunks) {
      expect(chunk.byteLength).toBeGreaterThan(0);
      break;
    }
    await expect(part.finished()).rejects.toThrow(/before its chunks were read to the end/);
  });
});

function firstDifference(a: string, b: string): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) {
      let j = 0;
      while (al[i]?.[j] === bl[i]?.[j]) j++;
      return `line ${i + 1} at ${j}: byte path ${JSON.stringify(al[i]?.slice(Math.max(0, j - 30), j + 30))} row path ${JSON.stringify(bl[i]?.slice(Math.max(0, j - 30), j + 30))}`;
    }
  }
  return 'identical';
}

const sorted = (list: Replacement[]) => [...list].map(({ column, rule, count }) => ({ column, rule, count })).sort((a, b) => `${a.rule}/${a.column}`.localeCompare(`${b.rule}/${b.column}`));

const PARQUET_CODEC_NAMES: Record<ParquetCompression, string> = { none: 'UNCOMPRESSED', zstd: 'ZSTD', snappy: 'SNAPPY', gzip: 'GZIP', brotli: 'BROTLI', lz4: 'LZ4_RAW' };

function arrowTypeName(type: string): string {
  return ({ string: 'Utf8', json: 'Utf8', int: 'Int64', float: 'Float64', bool: 'Bool', timestamp: 'Timestamp<MICROSECOND, UTC>' } as Record<string, string>)[type];
}
