/**
 * The Postgres byte path (wire format `pgcopy`): ClickHouse writes the COPY text the row path's encoder writes, and
 * the rows it cannot settle in SQL are re-encoded by the plugin. Checked on values beyond the conformance kit's
 * (json nested 1,001-1,023 levels, which ClickHouse parses and the row path stores as a string; numbers outside
 * Postgres numeric; `\.` lines; float spellings), three ways: the bytes against `encodeRow`'s, the replacement counts
 * against the row path's Sanitizer, and what lands in Postgres against the row path's landing.
 */
import { MODEL_SCHEMAS, type Column, type Replacement, type Row } from '../../src/sdk';
import { eventRows, lossyEventRows, personRow, sessionRow } from '../../src/sdk/conformance';
import { hourInterval, runContext, stream, toBatches } from '../../src/sdk/conformance/run';
import postgres from '../../plugins/postgres';
import { encodeRow } from '../../plugins/postgres/copy';
import { copyTextChunks } from '../../plugins/postgres/encoded';
import { Sanitizer } from '../../plugins/postgres/sanitize';
import { PGCOPY, writeEncodedRun } from '../../plugins/postgres/write';
import { destinationDatabase } from '../conformance/fixtures/postgres';
import { encodeRowsWithClickHouse } from '../support/encode-rows';
import { readTable } from '../support/pg-destination';

const interval = hourInterval(0);
const nested = (depth: number) => '{"deep": ' + '['.repeat(depth) + '"bottom"' + ']'.repeat(depth) + '}';

/** json texts around the rules the SQL cannot apply, and the escapes it must get right. */
const JSON_TEXTS = [
  nested(999),
  nested(1000),
  nested(1001),
  nested(1023),
  nested(1100),
  '{"n": 1e400}',
  '{"n": 1e200000}',
  '{"n": -2.5E-1000}',
  '{"n": 1e-20000, "free-trial": "e-1234"}',
  '{"zero": 0e200000}',
  '{"zero": [-0.0E+9999]}',
  '{"n": 1e1000}',
  '{"n": 123456789012345678901234}',
  '{"n": 0.' + '1'.repeat(16_500) + '}',
  '{"n": 1' + '0'.repeat(1200) + '}',
  '{"n": 1' + '0'.repeat(1200) + ', "nul": "\\u0000", "lone": "\\ud800"}',
  '{"s": "1e99999 inside a string", "id": "0192f3e5-1e1234"}',
  '{"escaped backslash": "\\\\ud800 \\\\u0000"}',
  '{"pair": "\\ud83d\\ude00", "lone high": "\\ud83d", "lone low": "\\ude00", "nul": "\\u0000"}',
  '{"copy": "\\\\.\\n\\\\.", "tab": "\\t", "slash": "a/b"}',
  '{"raw nul": "a\u0000b"}',
  'not json \u0000 with a NUL',
  '"a string"',
  '[1, 2.5, -0, 1e21, true, null]',
  '{"dup": 1, "dup": 2}',
];

const TEXTS = ['\\.', 'a\n\\.\nb', 'back\\slash\ttab\r\ncrlf', 'NUL \u0000 here', '\u0000', 'é€𝄞 and U+2028 \u2028', "quote ' \" `", ''];

function hostileEvents(): Row[] {
  const base = [...eventRows(interval, 0, 80), ...lossyEventRows(interval, 80)].filter((r) =>
    Object.values(r).every((v) => typeof v !== 'string' || !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v)),
  );
  const extra = eventRows(interval, 1000, JSON_TEXTS.length * 2).map((row, i) => ({
    ...row,
    event: TEXTS[i % TEXTS.length],
    elements_chain: i % 3 === 0 ? null : TEXTS[(i + 3) % TEXTS.length],
    properties: JSON_TEXTS[i % JSON_TEXTS.length],
    person_properties: i % 2 ? JSON_TEXTS[(i + 5) % JSON_TEXTS.length] : null,
    set: i % 4 === 1 ? JSON_TEXTS[(i + 7) % JSON_TEXTS.length] : null,
  }));
  return [...base, ...extra];
}

function hostileSessions(): Row[] {
  const floats = [0, -0, 1e21, 1.5e-7, 1e-7, 123456.789, 0.30000000000000004, 2 ** 53, 1e300, -5e-324];
  return floats.map((duration, key) => ({ ...sessionRow(interval, { key, version: 1, tag: 't' }), duration_seconds: duration, entry_url: TEXTS[key % TEXTS.length] }));
}

function hostilePersons(): Row[] {
  return JSON_TEXTS.map((text, key) => ({ ...personRow(interval, { key, personVersion: 1, tag: 'p' }), properties: key % 7 === 3 ? null : text }));
}

/** The byte path's COPY text for `rows` (the plugin's re-encoding of flagged rows included) and its replacements. */
async function bytePath(rows: Row[], model: 'events' | 'persons' | 'sessions'): Promise<{ text: string; flaggedCounts: Replacement[]; sqlCounts: Replacement[] }> {
  const schema = MODEL_SCHEMAS[model];
  const encoded = await encodeRowsWithClickHouse(rows, schema, PGCOPY);
  try {
    const sanitizer = new Sanitizer();
    const part = await encoded.run.open();
    const out: Buffer[] = [];
    for await (const chunk of copyTextChunks(part.chunks, schema.columns, sanitizer)) out.push(chunk);
    expect((await part.finished()).rows).toBe(rows.length);
    return { text: Buffer.concat(out).toString('utf8'), flaggedCounts: sanitizer.replacements.list(), sqlCounts: await encoded.run.replacements() };
  } finally {
    await encoded.done();
  }
}

function rowPath(rows: Row[], model: 'events' | 'persons' | 'sessions'): { lines: string[]; counts: Replacement[] } {
  const sanitizer = new Sanitizer();
  const lines = rows.map((r) => encodeRow(r, MODEL_SCHEMAS[model].columns, sanitizer));
  return { lines, counts: sanitizer.replacements.list() };
}

/** COPY text field -> its value (the row path and ClickHouse may spell escapes inside JSON differently). */
function unescapeCopy(field: string): string | null {
  if (field === '\\N') return null;
  return field.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}

function comparable(column: Column, field: string): unknown {
  const value = unescapeCopy(field);
  return column.type === 'json' && value !== null ? JSON.parse(value) : field;
}

const totals = (list: Replacement[]) => {
  const m = new Map<string, number>();
  for (const r of list) if (r.rule !== 'invalid_utf8') m.set(`${r.column}/${r.rule}`, (m.get(`${r.column}/${r.rule}`) ?? 0) + r.count);
  return Object.fromEntries([...m].sort());
};

describe.each([
  ['events', hostileEvents],
  ['persons', hostilePersons],
  ['sessions', hostileSessions],
] as const)('pgcopy on hostile %s', (model, rowsOf) => {
  const rows = rowsOf();

  test('ClickHouse writes the row path\'s COPY text: byte for byte outside json, the same JSON values inside', async () => {
    const columns = MODEL_SCHEMAS[model].columns;
    const bytes = await bytePath(rows, model);
    const expected = rowPath(rows, model).lines;
    const lines = bytes.text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(expected.length);
    const differences: string[] = [];
    lines.forEach((line, i) => {
      const got = line.split('\t');
      const want = expected[i].slice(0, -1).split('\t');
      if (got.length !== want.length) return void differences.push(`row ${i}: ${got.length} fields, row path ${want.length}`);
      columns.forEach((c, k) => {
        if (!Object.is(comparable(c, got[k]), comparable(c, want[k])) && JSON.stringify(comparable(c, got[k])) !== JSON.stringify(comparable(c, want[k]))) {
          differences.push(`row ${i} ${c.name}: ${got[k].slice(0, 120)} | row path ${want[k].slice(0, 120)}`);
        }
      });
    });
    expect(differences.slice(0, 10)).toEqual([]);
  });

  test('replacements per column and rule equal the row path Sanitizer\'s (SQL-counted + flagged rows)', async () => {
    const bytes = await bytePath(rows, model);
    const expected = totals(rowPath(rows, model).counts);
    expect(totals([...bytes.sqlCounts, ...bytes.flaggedCounts])).toEqual(expected);
    if (model === 'events') {
      // The example is not trivial: every rule of the Sanitizer is hit, and both counting sides take part.
      expect(Object.keys(expected).map((k) => k.split('/')[1])).toEqual(
        expect.arrayContaining(['nul', 'lone_surrogate', 'invalid_json_as_string', 'json_too_deep_as_string', 'json_number_out_of_range_as_string']),
      );
      expect(bytes.flaggedCounts.length).toBeGreaterThan(0);
      expect(bytes.sqlCounts.length).toBeGreaterThan(0);
    }
  });

  test.each([1, 3])('writeEncoded in %i COPY stream(s) lands the values the row path lands, and reports the same replacements', async (streams) => {
    const dest = await destinationDatabase('pgbytes');
    try {
      const viaRows = await dest.freshSchema();
      const viaBytes = await dest.freshSchema();
      const rowResult = await postgres.write(viaRows, runContext({ model, interval }), stream(toBatches(rows)));
      const encoded = await encodeRowsWithClickHouse(rows, MODEL_SCHEMAS[model], PGCOPY);
      let byteResult;
      try {
        const ctx = runContext({ model, interval, expectedRows: rows.length });
        byteResult = await writeEncodedRun(viaBytes, ctx, encoded.run, { streams });
        if (streams > 1) expect(ctx.logger.lines).toContainEqual(expect.stringContaining(`Loading in ${streams} parallel COPY streams`));
        byteResult = { ...byteResult, replacements: [...(byteResult.replacements ?? []), ...(await encoded.run.replacements())] };
      } finally {
        await encoded.done();
      }
      expect(byteResult.rowsLanded).toBe(rows.length);
      expect(rowResult.rowsLanded).toBe(rows.length);
      expect(totals(byteResult.replacements)).toEqual(totals(rowResult.replacements ?? []));
      const key = (r: Row) => String(r.uuid ?? r.session_id ?? r.distinct_id);
      const sorted = (list: Row[]) => [...list].sort((a, b) => (key(a) < key(b) ? -1 : 1));
      const a = sorted(await readTable(dest.db.url, viaRows.schema, model, model));
      const b = sorted(await readTable(dest.db.url, viaBytes.schema, model, model));
      expect(b).toHaveLength(rows.length);
      expect(b).toEqual(a);
    } finally {
      await dest.drop();
    }
  });
});

test('a flagged line is re-encoded wherever the chunks of the stream are cut', async () => {
  const columns = MODEL_SCHEMAS.sessions.columns;
  const fields = columns.map((c) => (c.type === 'string' ? 'NUL \u0000 \\. tab\t' : c.type === 'json' ? '{"a": 1}' : c.type === 'bool' ? 't' : c.type === 'timestamp' ? '2026-01-01T00:00:00.000000Z' : '7'));
  const plain = Buffer.from(columns.map(() => 'x').join('\t') + '\n');
  const stream = Buffer.concat([plain, Buffer.from('\0' + JSON.stringify(fields) + '\n'), plain, Buffer.from('\0' + JSON.stringify(fields) + '\n')]);
  const run = async (chunks: Buffer[]) => {
    const sanitizer = new Sanitizer();
    const out: Buffer[] = [];
    for await (const b of copyTextChunks((async function* () { yield* chunks; })(), columns, sanitizer)) out.push(b);
    return { text: Buffer.concat(out).toString('utf8'), nul: sanitizer.total };
  };
  const whole = await run([stream]);
  const strings = columns.filter((c) => c.type === 'string').length;
  expect(whole.nul).toBe(2 * strings);
  expect(whole.text.split('\n')).toHaveLength(5);
  expect(whole.text).not.toContain('\0');
  expect(whole.text).toContain('NUL \uFFFD \\\\. tab\\t');
  for (let cut = 1; cut < stream.length; cut++) {
    expect(await run([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(whole);
  }
  await expect(run([stream.subarray(0, stream.length - 1)])).rejects.toThrow(/ended inside a flagged row/);
});
