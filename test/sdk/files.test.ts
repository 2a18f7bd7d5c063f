import zlib from 'node:zlib';
import { EVENTS_SCHEMA, PERSONS_SCHEMA, type RecordBatch, type Row } from '../../src/sdk';
import {
  compactUtc, decodeJsonl, decodeParquet, encodeJsonl, encodeParquet, isoToMicros, jsonlCompressionProblem,
  mergeLatestVersions, microsToIso, newEncodeStats, parquetFileInfo, prefixTemplateProblems, renderPrefix, runLayout,
} from '../../src/sdk/files';

async function* batchesOf(rows: Row[], size: number): AsyncGenerator<RecordBatch> {
  for (let i = 0; i < rows.length; i += size) yield { rows: rows.slice(i, i + size), sizeBytes: 0 };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

function event(i: number, overrides: Partial<Row> = {}): Row {
  return {
    team_id: 7,
    uuid: `0190a0b0-0000-7000-8000-${String(i).padStart(12, '0')}`,
    event: i % 2 ? '$pageview' : 'signed "up" \\ now',
    distinct_id: `user-${i}\u0000nul-😀-\u202Ertl`,
    person_id: i % 3 ? null : `person-${i}`,
    timestamp: `2024-01-31T23:59:${String(i % 60).padStart(2, '0')}.${String(123456 + i).slice(-6)}Z`,
    created_at: '1969-12-31T23:59:59.999999Z',
    _inserted_at: '2024-02-01T00:00:00.000001Z',
    properties: `{"n":${i},"big":12345678901234567890,` + JSON.stringify({ s: 'line\nbreak\ttab "q" \\', emoji: '🦄', nul: '\u0000' }).slice(1),
    person_properties: i % 2 ? null : '{"a":\n  [1, 2.50, {"b": null}]}',
    set: '"just a string"',
    set_once: null,
    elements_chain: i % 4 ? 'a:href="x"' : null,
    ...overrides,
  };
}

describe('timestamps', () => {
  it('converts ISO strings to microseconds and back exactly, before and after 1970', () => {
    for (const iso of ['2024-01-31T23:59:59.123456Z', '1969-12-31T23:59:59.999999Z', '1900-01-01T00:00:00.000001Z', '2262-04-11T23:47:16.854775Z']) {
      expect(microsToIso(isoToMicros(iso))).toBe(iso);
    }
    expect(isoToMicros('2024-01-01T01:00:00+01:00')).toBe(isoToMicros('2024-01-01T00:00:00.000000Z'));
    expect(() => isoToMicros('yesterday')).toThrow(/not an ISO-8601 timestamp/);
  });
});

describe('key templates', () => {
  const vars = { model: 'events' as const, interval: { start: new Date('2024-03-05T07:08:09Z'), end: new Date('2024-03-05T08:08:09Z') }, teamId: 42, exportId: 'exp1' };
  it('renders every placeholder from the interval start in UTC', () => {
    expect(renderPrefix('/{table}/{year}/{month}/{day}/{hour}{minute}{second}/t{team_id}/{export_id}/', vars)).toBe('events/2024/03/05/070809/t42/exp1');
    expect(renderPrefix('{table}/{data_interval_start}_{data_interval_end}', vars)).toBe('events/20240305T070809Z_20240305T080809Z');
  });
  it('names files deterministically in the export\'s own folder and recognises its own files', () => {
    const l = runLayout('events/2024', vars.interval, '.jsonl.gz', true, 'exp1');
    const dir = 'events/2024/export_id=exp1';
    expect(l.fileKey(0)).toBe(`${dir}/20240305T070809Z-20240305T080809Z-0.jsonl.gz`);
    expect(l.manifestKey).toBe(`${dir}/20240305T070809Z-20240305T080809Z_manifest.json`);
    expect(l.ownsKey(`${dir}/20240305T070809Z-20240305T080809Z-12.parquet`)).toBe(true);
    expect(l.ownsKey(`${dir}/20240305T070809Z-20240305T080809Z.jsonl.gz.abc123.tmp`)).toBe(true);
    expect(l.ownsKey(l.manifestKey)).toBe(false);
    expect(l.ownsKey(`${dir}/20240305T070809Z-20240305T090809Z.jsonl`)).toBe(false);
    expect(runLayout('', vars.interval, '.parquet', false, 'exp1').fileKey(3)).toBe('export_id=exp1/20240305T070809Z-20240305T080809Z.parquet');
    expect(compactUtc(new Date('2024-01-01T00:00:00.250Z'))).toBe('20240101T000000.250Z');
  });
  it('never lets one export own another export\'s keys, whatever the prefix templates render to', () => {
    const interval = vars.interval;
    const stem = '20240305T070809Z-20240305T080809Z';
    // Ids where one is a prefix of the other, and prefixes that spell the other's folder.
    const a = runLayout('events', interval, '.jsonl', true, 'exp');
    const b = runLayout('events', interval, '.jsonl', true, 'exp-1');
    const c = runLayout('events/export_id=exp', interval, '.jsonl', false, 'other');
    for (const [mine, theirs] of [[a, b], [b, a], [a, c], [c, a]]) {
      for (const key of [theirs.fileKey(0), theirs.fileKey(1), theirs.manifestKey, `${theirs.base}.parquet`]) expect(mine.ownsKey(key)).toBe(false);
    }
    expect(b.fileKey(1)).toBe(`events/export_id=exp-1/${stem}-1.jsonl`);
    expect(c.fileKey(0)).toBe(`events/export_id=exp/export_id=other/${stem}.jsonl`);
  });
  it('refuses export ids that cannot be one folder name', () => {
    for (const bad of ['', '..', '.', 'a/b', 'a\\b', '../x', 'x'.repeat(129)]) {
      expect(() => runLayout('events', vars.interval, '.jsonl', false, bad)).toThrow(/cannot name a folder/);
    }
  });
  it('rejects unknown placeholders and dot segments', () => {
    expect(prefixTemplateProblems('{table}/{year}')).toEqual([]);
    expect(prefixTemplateProblems('{table}/{yaer}').join()).toMatch(/unknown placeholder \{yaer\}/);
    // No {table} needed: the export_id folder keeps every export's (so every model's) files apart.
    expect(prefixTemplateProblems('{year}')).toEqual([]);
    expect(prefixTemplateProblems('{table}/../x').join()).toMatch(/'\.\.'/);
  });
});

describe('JSON Lines', () => {
  const rows = Array.from({ length: 25 }, (_, i) => event(i));

  it('embeds json columns as JSON values, keeping the text (every digit) on one line', async () => {
    const stats = newEncodeStats();
    const text = (await collect(encodeJsonl(batchesOf(rows, 10), EVENTS_SCHEMA, 'none', stats))).toString('utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(26);
    expect(lines[25]).toBe('');
    expect(lines[0]).toContain('"big":12345678901234567890');
    expect(lines[0]).toContain('"person_properties":{"a":   [1, 2.50, {"b": null}]}');
    expect(lines[0]).toContain('"set":"just a string"');
    expect(JSON.parse(lines[0]).properties.emoji).toBe('🦄');
    expect(Object.keys(JSON.parse(lines[0]))).toEqual(EVENTS_SCHEMA.columns.map((c) => c.name));
    expect({ rows: stats.rows, invalidJson: stats.invalidJson, replacements: stats.replacements.list() }).toEqual({ rows: 25, invalidJson: 0, replacements: [] });
  });

  it('writes invalid JSON text as a string and counts it', async () => {
    const stats = newEncodeStats();
    const bad = [event(1, { properties: '{"unterminated": ' }), event(2, { person_properties: '' })];
    const out = decodeJsonl(await collect(encodeJsonl(batchesOf(bad, 5), EVENTS_SCHEMA, 'none', stats)), EVENTS_SCHEMA);
    expect(stats.invalidJson).toBe(2);
    expect(JSON.parse(out[0].properties as string)).toBe('{"unterminated": ');
    expect(JSON.parse(out[1].person_properties as string)).toBe('');
  });

  it.each(['gzip', 'brotli'] as const)('round-trips hostile rows through %s', async (compression) => {
    const data = await collect(encodeJsonl(batchesOf(rows, 7), EVENTS_SCHEMA, compression, newEncodeStats()));
    if (compression === 'gzip') expect(zlib.gunzipSync(data).toString()).toContain('"uuid"');
    const back = decodeJsonl(data, EVENTS_SCHEMA, compression);
    expect(back).toHaveLength(rows.length);
    back.forEach((r, i) => {
      for (const c of EVENTS_SCHEMA.columns) {
        if (c.type === 'json') expect(r[c.name] === null ? null : JSON.parse(r[c.name] as string)).toEqual(rows[i][c.name] === null ? null : JSON.parse(rows[i][c.name] as string));
        else expect(r[c.name]).toBe(rows[i][c.name]);
      }
    });
  });

  it('refuses zstd on a Node without zlib zstd, naming the alternatives', () => {
    const hasZstd = typeof (zlib as unknown as { createZstdCompress?: unknown }).createZstdCompress === 'function';
    if (hasZstd) expect(jsonlCompressionProblem('zstd')).toBeUndefined();
    else expect(jsonlCompressionProblem('zstd')).toMatch(/Node >= 22\.15.*gzip or brotli.*Parquet/);
    expect(jsonlCompressionProblem('snappy')).toMatch(/not 'snappy'/);
  });
});

describe('Parquet', () => {
  it('round-trips hostile rows with exact microseconds and int64s, one row group per batch group', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => event(i, { team_id: 2 ** 53 - 1 - i }));
    const stats = newEncodeStats();
    const data = await collect(encodeParquet(batchesOf(rows, 100), EVENTS_SCHEMA, { compression: 'zstd', rowGroupRows: 100 }, stats));
    expect(data.subarray(0, 4).toString()).toBe('PAR1');
    expect(stats.rows).toBe(300);
    const info = await parquetFileInfo(data);
    expect(info.rows).toBe(300);
    expect(info.rowGroups).toBe(3);
    expect(new Set(info.compression)).toEqual(new Set(['ZSTD']));
    expect(await decodeParquet(data, EVENTS_SCHEMA)).toEqual(rows);
  });

  it.each(['none', 'snappy', 'gzip', 'brotli', 'lz4'] as const)('writes %s-compressed files that read back', async (compression) => {
    const rows: Row[] = [
      { team_id: 1, distinct_id: 'd', person_id: 'p', properties: '{"x":1}', person_version: 3, person_distinct_id_version: 0, is_deleted: false, created_at: null, _inserted_at: '2024-01-01T00:00:00.000000Z' },
      { team_id: 1, distinct_id: 'e', person_id: 'p', properties: null, person_version: 0, person_distinct_id_version: 9, is_deleted: true, created_at: '2023-01-01T00:00:00.5Z', _inserted_at: '2024-01-01T00:00:00.000000Z' },
    ];
    const data = await collect(encodeParquet(batchesOf(rows, 1), PERSONS_SCHEMA, { compression }, newEncodeStats()));
    const back = await decodeParquet(data, PERSONS_SCHEMA);
    expect(back).toEqual([rows[0], { ...rows[1], created_at: '2023-01-01T00:00:00.500000Z' }]);
  });

  it('names the column of a value that does not fit its type', async () => {
    const bad = [event(1, { timestamp: 'not a time' })];
    await expect(collect(encodeParquet(batchesOf(bad, 1), EVENTS_SCHEMA, { compression: 'none' }, newEncodeStats()))).rejects.toThrow(/column timestamp \(timestamp\)/);
  });
});

describe('mergeLatestVersions', () => {
  it('keeps, per key, the row whose version columns are greater, whatever the order', () => {
    const p = (id: string, pv: number, pdv: number, tag: string): Row => ({ team_id: 1, distinct_id: id, person_version: pv, person_distinct_id_version: pdv, person_id: tag });
    const merged = mergeLatestVersions([p('a', 2, 0, 'new'), p('a', 1, 0, 'old'), p('b', 1, 0, 'b1'), p('b', 1, 1, 'b2')], PERSONS_SCHEMA);
    expect(merged.map((r) => r.person_id)).toEqual(['new', 'b2']);
    const events = [event(1), event(1)];
    expect(mergeLatestVersions(events, EVENTS_SCHEMA)).toHaveLength(2);
  });
});
