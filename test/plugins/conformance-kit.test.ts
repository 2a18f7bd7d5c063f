/**
 * The kit must catch broken destinations, or passing it means nothing. Each mutant below is the example NDJSON
 * plugin with one classic bug; the matching check has to fail with a message that names the bug.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CHECKS } from '../../src/sdk/conformance/checks';
import { diffRows, timestampMicros } from '../../src/sdk/conformance/compare';
import { notApplicable, type ConformanceCheck, type ConformanceFixture } from '../../src/sdk/conformance';
import { replacementProblems } from '../../src/sdk/conformance/replacements';
import { deepJson, eventRows, HOSTILE_STRINGS, HUGE_STRING, LOSSY_JSON_TEXTS, LOSSY_STRINGS, lossyEventRows } from '../../src/sdk/conformance/rows';
import { hourInterval } from '../../src/sdk/conformance/run';
import { DestinationError, EVENTS_SCHEMA, ReplacementCounter, type DestinationPlugin, type RecordBatch, type Row } from '../../src/sdk';
import example, { fileName } from '../fixtures/plugins/example-ndjson';
import exampleFixture from '../conformance/fixtures/example';
import { encodeRowsWithClickHouse } from '../support/encode-rows';

type Write = DestinationPlugin['write'];
const fixtures: ConformanceFixture[] = [];
afterAll(async () => {
  for (const fx of fixtures) await fx.teardown?.();
});

function mutant(overrides: Partial<DestinationPlugin>): ConformanceFixture {
  const fx = exampleFixture();
  fixtures.push(fx);
  return { ...fx, plugin: { ...example, ...overrides } };
}

/** A write that alters every row before the real plugin sees it. */
function mapRows(f: (row: Row) => Row): Write {
  return (config, ctx, batches) =>
    example.write(config, ctx, (async function* () {
      for await (const b of batches) yield { ...b, rows: b.rows.map(f) };
    })());
}

const mapStrings = (f: (s: string) => string) => (row: Row) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' ? f(v) : v]));

async function expectCheckFails(check: ConformanceCheck, fx: ConformanceFixture, message: RegExp): Promise<void> {
  await expect(CHECKS[check].run(fx)).rejects.toThrow(message);
}

describe('the conformance kit fails broken destinations', () => {
  it('passes the unmodified example plugin (control)', async () => {
    const fx = mutant({});
    for (const check of ['events-roundtrip', 'persons-merge', 'retry-no-duplicates', 'permanent-error'] as const) await CHECKS[check].run(fx);
  });

  it('catches a destination that drops NUL characters', async () => {
    await expectCheckFails('events-roundtrip', mutant({ write: mapRows(mapStrings((s) => s.replaceAll('\u0000', ''))) }), /column event: expected "NUL \\u0000 in the middle"/);
  });

  it('catches a destination that truncates long strings', async () => {
    await expectCheckFails('events-roundtrip', mutant({ write: mapRows(mapStrings((s) => s.slice(0, 65535))) }), /column elements_chain/);
  });

  it('catches a destination that keeps only milliseconds', async () => {
    const millis = (row: Row) => ({ ...row, timestamp: (row.timestamp as string).slice(0, 23) + 'Z' });
    await expectCheckFails('events-roundtrip', mutant({ write: mapRows(millis) }), /column timestamp: expected instant/);
  });

  it('catches a destination that normalises unicode', async () => {
    await expectCheckFails('events-roundtrip', mutant({ write: mapRows(mapStrings((s) => s.normalize('NFC'))) }), /combining/);
  });

  it('catches rowsLanded that counts rows handed over instead of rows landed', async () => {
    const overcount: Write = async (c, ctx, b) => ({ ...(await example.write(c, ctx, b)), rowsLanded: 241 });
    await expectCheckFails('events-roundtrip', mutant({ write: overcount }), /events run: rowsLanded is 241, expected 240/);
  });

  it('catches retries that add a second copy instead of replacing', async () => {
    const perAttempt: Write = (c, ctx, b) =>
      example.write(c, { ...ctx, interval: { start: new Date(ctx.interval.start.getTime() + ctx.attempt * 1000), end: ctx.interval.end } }, b);
    await expectCheckFails('retry-no-duplicates', mutant({ write: perAttempt }), /after attempt 3 \(replay\): the events read back differ[\s\S]*landed 2 times \(duplicates\)/);
  });

  it('catches an aborted attempt that leaves half its rows behind', async () => {
    const direct: Write = async (config, ctx, batches) => {
      const target = path.join((config as { directory: string }).directory, fileName(config as never, ctx));
      let rows = 0;
      fs.writeFileSync(target, '');
      for await (const b of batches) {
        fs.appendFileSync(target, b.rows.map((r) => JSON.stringify(r) + '\n').join(''));
        rows += b.rows.length;
      }
      return { rowsLanded: rows, bytesWritten: fs.statSync(target).size };
    };
    await expectCheckFails('retry-no-duplicates', mutant({ write: direct }), /after attempt 1 was aborted mid-stream .*: the events read back differ from what was written:\n  - expected 0 rows, read back \d+/);
  });

  it('catches a destination that swallows a failing batch stream and reports success', async () => {
    const swallow: Write = async (c, ctx, batches) => {
      const safe = (async function* (): AsyncGenerator<RecordBatch> {
        try {
          for await (const b of batches) yield b;
        } catch {
          // the bug: the source failed, the run "succeeds" with what it had
        }
      })();
      return example.write(c, ctx, safe);
    };
    await expectCheckFails('retry-no-duplicates', mutant({ write: swallow }), /resolved although its batches threw mid-stream/);
  });

  it('catches a merge that lets an older version overwrite a newer one', async () => {
    const lastWriteWins: Write = (c, ctx, b) => {
      if (ctx.model === 'persons') fs.rmSync(path.join((c as { directory: string }).directory, fileName(c as never, ctx)), { force: true });
      return example.write(c, ctx, b);
    };
    await expectCheckFails('persons-merge', mutant({ write: lastWriteWins }), /after run 2 \(merge by version\)/);
  });

  it('catches two exports whose runs of one interval write the same file (one export\'s rows replace the other\'s)', async () => {
    // The example plugin before issue 11: one events file per interval, whoever's export wrote it. Read as a table
    // would be (no per-export reader), the union of both exports must still be there.
    const perInterval: Write = (c, ctx, b) => example.write(c, { ...ctx, exportId: 'any-export' }, b);
    const fx = { ...mutant({ write: perInterval }), readBackExport: undefined };
    await expectCheckFails('two-exports-one-destination', fx, /after two exports wrote the same interval at once: .*[1-9]\d* of export conformance-export-[ab]'s 90 rows are missing/);
  });

  it("catches a re-run of one export's interval that deletes the other export's rows of that interval", async () => {
    // A destination that scopes its clean-up by interval instead of by export (a table's DELETE ... WHERE timestamp
    // in the interval): the retry of export A removes export B's rows.
    const clearInterval: Write = (c, ctx, b) => {
      const config = c as { directory: string };
      const stamps = fileName(c as never, ctx).replace(/^.*-(\d{8}T\d{6}Z-\d{8}T\d{6}Z\.ndjson)$/, '$1');
      if (ctx.attempt > 1) for (const f of fs.readdirSync(config.directory)) if (f.endsWith(stamps)) fs.rmSync(path.join(config.directory, f));
      return example.write(c, ctx, b);
    };
    await expectCheckFails('two-exports-one-destination', mutant({ write: clearInterval }), /after export A's run was retried: the events of export conformance-export-b read back differ[\s\S]*expected 90 rows, read back 0/);
    // Without a per-export reader the same files read as one table would hold the rows both exports select twice.
    await expectCheckFails('two-exports-one-destination', { ...mutant({}), readBackExport: undefined }, /every row of either export, once by key\) differ: [\s\S]*landed 2 times \(duplicates\)/);
  });

  it('catches a value changed without a reported replacement', async () => {
    const silent = mapRows(mapStrings((s) => s.replaceAll('\u0000', '\uFFFD')));
    await expectCheckFails('replacements-reported', mutant({ write: silent }), /column event: \d+ value\(s\) read back differ from the values written \(e\.g\. wrote "NUL \\u0000 in the middle", read back "NUL � in the middle"\), but no replacement was reported/);
  });

  /** NUL becomes U+FFFD in every string column; `report` says what the plugin claims it changed. */
  function replacingNul(report: (counted: ReplacementCounter) => WriteResultReplacements): Write {
    return async (config, ctx, batches) => {
      const counted = new ReplacementCounter();
      const fix = (row: Row): Row => {
        const out: Row = { ...row };
        for (const c of ctx.schema.columns) {
          const v = row[c.name];
          if (typeof v === 'string' && v.includes('\u0000')) {
            out[c.name] = v.replaceAll('\u0000', '\uFFFD');
            counted.add(c.name, 'nul');
          }
        }
        return out;
      };
      const result = await mapRows(fix)(config, ctx, batches);
      return { ...result, replacements: report(counted) };
    };
  }
  type WriteResultReplacements = Awaited<ReturnType<Write>>['replacements'];

  it('passes a destination that changes values and reports each one on its column (control)', async () => {
    await CHECKS['replacements-reported'].run(mutant({ write: replacingNul((counted) => counted.list()) }));
  });

  it('catches replacements counted short, on the wrong column, or reported for values that did not change', async () => {
    const short = replacingNul((counted) => counted.list().map((r) => ({ ...r, count: 1 })));
    await expectCheckFails('replacements-reported', mutant({ write: short }), /column event: \d+ value\(s\) read back differ .* but the replacements reported count only 1 \(nul: 1\)/);
    const wrongColumn = replacingNul((counted) => counted.list().map((r) => ({ ...r, column: r.column === 'event' ? 'distinct_id' : r.column })));
    await expectCheckFails('replacements-reported', mutant({ write: wrongColumn }), /column event: .* no replacement was reported[\s\S]*column distinct_id: rule nul reports 12 value\(s\) changed, but only 5 value\(s\) read back differ/);
    const phantom: Write = async (c, ctx, b) => ({ ...(await example.write(c, ctx, b)), replacements: [{ column: 'event', rule: 'nul', count: 3 }] });
    await expectCheckFails('replacements-reported', mutant({ write: phantom }), /column event: replacements reported \(nul: 3\), but every value read back equals the value written/);
    const unknown: Write = async (c, ctx, b) => ({ ...(await example.write(c, ctx, b)), replacements: [{ column: 'propertys', rule: 'nul', count: 1 }] });
    await expectCheckFails('replacements-reported', mutant({ write: unknown }), /names column "propertys", which is not a column of the events model/);
  });

  it('catches a broken config classified as retryable', async () => {
    const retryAll = () => new DestinationError('retryable', 'try again later');
    await expectCheckFails('permanent-error', mutant({ classifyError: retryAll }), /testConnection\(brokenConfig\): classified 'retryable' \(try again later\), expected 'config' or 'permanent'/);
  });

  it('catches an invalid config reported at the wrong path', async () => {
    const fx = mutant({});
    await expectCheckFails('config-validation', { ...fx, invalidConfigs: [{ config: {}, path: ['dir'] }] }, /rejected, but with no issue at \["dir"\]; issues at \[\["directory"\]\]/);
  });

  it('insists on brokenConfig unless the check is skipped with a reason', async () => {
    await expectCheckFails('permanent-error', { ...mutant({}), brokenConfig: undefined }, /has no brokenConfig\(\)/);
  });
});

describe('which checks apply', () => {
  it('skips what the fixture lists, models the plugin does not export, and merges it does not do', () => {
    const fx = mutant({ models: ['events', 'sessions'], capabilities: { merge: false } });
    expect(Object.fromEntries(notApplicable(fx))).toEqual({
      'outage-retryable': 'a local directory has no network to lose',
      'overlap-no-duplicates': expect.stringContaining('one file per interval'),
      'persons-merge': 'example-ndjson does not export persons',
      'sessions-merge': 'example-ndjson declares capabilities.merge = false (it keeps every version; readers pick the latest)',
      'byte-path-matches-rows': 'example-ndjson has no byte path (writeEncoded); it lands rows only',
    });
  });
});

describe('byte path', () => {
  // A byte path that parses ClickHouse's JSON Lines back into rows and lands them with the example's row writer,
  // after `alter`: honest only if `alter` changes nothing.
  const bytePath = (alter: (row: Row) => Row): Partial<DestinationPlugin> => ({
    capabilities: { ...example.capabilities, wireFormats: ['jsonl'] },
    wireFormat: () => ({ format: 'jsonl', compression: 'none' }),
    async writeEncoded(config, ctx, encoded) {
      const part = await encoded.open();
      const chunks: Buffer[] = [];
      for await (const c of part.chunks) chunks.push(Buffer.from(c));
      await part.finished();
      const rows = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((line) => {
        const o = JSON.parse(line) as Record<string, unknown>;
        const row: Row = {};
        for (const c of ctx.schema.columns) row[c.name] = c.type === 'json' && o[c.name] !== null ? JSON.stringify(o[c.name]) : (o[c.name] as Row[string]);
        return alter(row);
      });
      return example.write(config, ctx, (async function* () { yield { rows, sizeBytes: 0 }; })());
    },
  });

  it('fails a byte path that lands other values than the row path, naming them', async () => {
    const fx = { ...mutant(bytePath((row) => ({ ...row, distinct_id: `${row.distinct_id}!` }))), encodeRows: encodeRowsWithClickHouse };
    await expectCheckFails('byte-path-matches-rows', fx, /the byte path landed other values than the row path/);
  });

  it('fails a fixture of a byte-path plugin without encodeRows, saying what to add', async () => {
    await expectCheckFails('byte-path-matches-rows', mutant(bytePath((row) => row)), /the fixture has no encodeRows\(\)/);
  });
});

describe('replacement accounting', () => {
  const [row] = eventRows(hourInterval(0), 0, 1);
  const written = [{ ...row, event: 'NUL \u0000 and a lone \uDFFF' }, { ...row, uuid: 'b', event: 'lone \uD800' }];
  const back = [{ ...row, event: 'NUL \uFFFD and a lone \uFFFD' }, { ...row, uuid: 'b', event: 'lone \uFFFD' }];

  it('accepts a value changed by two rules counted once under each, and nothing reported when nothing changed', () => {
    const twoRules = [{ column: 'event', rule: 'nul', count: 1 }, { column: 'event', rule: 'lone_surrogate', count: 2 }];
    expect(replacementProblems(EVENTS_SCHEMA, written, back, twoRules)).toEqual([]);
    expect(replacementProblems(EVENTS_SCHEMA, written, written, undefined)).toEqual([]);
    expect(replacementProblems(EVENTS_SCHEMA, written, written, [])).toEqual([]);
  });

  it('refuses a rule counting more values than changed, and counts that are not whole numbers', () => {
    expect(replacementProblems(EVENTS_SCHEMA, written, back, [{ column: 'event', rule: 'lone_surrogate', count: 3 }])).toEqual([
      'column event: rule lone_surrogate reports 3 value(s) changed, but only 2 value(s) read back differ from the values written',
    ]);
    expect(replacementProblems(EVENTS_SCHEMA, written, back, [{ column: 'event', rule: 'x', count: 1.5 }, { column: 'event', rule: 'y', count: 1 }])).toEqual([
      expect.stringMatching(/must count a whole number of values > 0, got 1.5/),
    ]);
  });

  it('compares json by value and timestamps as instants, so re-spelling is not a change', () => {
    const asWritten = { ...row, properties: '{"i":0,"$browser":"Firefox"}' };
    const respelled = { ...asWritten, properties: '{ "$browser": "Firefox", "i": 0 }', timestamp: (row.timestamp as string).replace('T', ' ').replace('Z', '+00:00') };
    expect(replacementProblems(EVENTS_SCHEMA, [asWritten], [respelled], [])).toEqual([]);
  });
});

describe('comparison rules', () => {
  const row = eventRows(hourInterval(0), 0, 1)[0];

  it('compares timestamps as instants at microsecond precision, in any common spelling', () => {
    const us = timestampMicros('2024-03-01T00:00:01.000003Z');
    expect(timestampMicros('2024-03-01 00:00:01.000003+00')).toBe(us);
    expect(timestampMicros('2024-03-01T01:00:01.000003+01:00')).toBe(us);
    expect(timestampMicros('2024-03-01T00:00:01.0000031Z')).toBe(us);
    expect(timestampMicros('2024-03-01T00:00:01.000004Z')).not.toBe(us);
    expect(timestampMicros('2024-03-01T00:00:01.000Z')).toBe(us! - 3n);
    expect(timestampMicros('yesterday')).toBeUndefined();
  });

  it('compares JSON by value, ignoring key order and whitespace', () => {
    const expected = { ...row, properties: '{"a":1,"b":[1,2]}' };
    expect(diffRows(EVENTS_SCHEMA, [expected], [{ ...expected, properties: '{ "b": [1, 2], "a": 1 }' }])).toEqual([]);
    expect(diffRows(EVENTS_SCHEMA, [expected], [{ ...expected, properties: '{"a":"1","b":[1,2]}' }])).toEqual([
      expect.stringMatching(/column properties: JSON differs/),
    ]);
  });

  it('reports duplicates, missing and unexpected rows by key, and type changes', () => {
    const [a, b] = eventRows(hourInterval(0), 0, 2);
    const c = { ...b, uuid: 'other' };
    expect(diffRows(EVENTS_SCHEMA, [a, b], [a, a, c])).toEqual([
      'expected 2 rows, read back 3',
      expect.stringMatching(/landed 2 times \(duplicates\)/),
      expect.stringMatching(/^unexpected row with key .*other/),
      expect.stringMatching(/^missing row with key/),
    ]);
    expect(diffRows(EVENTS_SCHEMA, [a], [{ ...a, team_id: '4242' }])).toEqual([expect.stringMatching(/unexpected/), expect.stringMatching(/missing/)]);
  });

  it('applies the fixture expectedValue rule before comparing', () => {
    const nul = { ...row, event: 'a\u0000b' };
    const stripped = { ...nul, event: 'ab' };
    expect(diffRows(EVENTS_SCHEMA, [nul], [stripped])).toHaveLength(1);
    const rule = (_c: unknown, v: Row[string]) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v);
    expect(diffRows(EVENTS_SCHEMA, [nul], [stripped], rule)).toEqual([]);
  });
});

describe('generated rows', () => {
  const rows = eventRows(hourInterval(0), 0, 240);
  const strings = rows.flatMap((r) => Object.values(r).filter((v): v is string => typeof v === 'string'));

  it('carry every hostile string in a plain string column, a 100 KB value and 60-deep JSON', () => {
    const events = new Set(rows.map((r) => r.event));
    expect(HOSTILE_STRINGS.filter((s) => !events.has(s))).toEqual([]);
    expect(HUGE_STRING.length).toBeGreaterThanOrEqual(100_000);
    expect(rows.some((r) => r.elements_chain === HUGE_STRING)).toBe(true);
    let depth = 0;
    for (let v: unknown = deepJson(); v && typeof v === 'object'; depth++) v = Array.isArray(v) ? v[0] : Object.values(v as object)[0];
    expect(depth).toBe(61);
    expect(rows.some((r) => r.properties === JSON.stringify(deepJson()))).toBe(true);
  });

  it('lossy rows carry every lossy string and json text, with plain keys', () => {
    const lossy = lossyEventRows(hourInterval(0), 240);
    const values = new Set(lossy.flatMap((r) => Object.values(r)));
    expect(LOSSY_STRINGS.filter((v) => !values.has(v))).toEqual([]);
    expect(LOSSY_JSON_TEXTS.filter((v) => !values.has(v))).toEqual([]);
    expect(new Set([...rows, ...lossy].map((r) => r.uuid)).size).toBe(rows.length + lossy.length);
  });

  it('are valid rows: JSON columns parse, timestamps have microseconds, no lone surrogates', () => {
    for (const r of rows) {
      for (const c of EVENTS_SCHEMA.columns) {
        const v = r[c.name];
        if (!c.nullable) expect(v).not.toBeNull();
        if (c.type === 'json' && v !== null) expect(() => JSON.parse(v as string)).not.toThrow();
        if (c.type === 'timestamp') expect(v).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      }
    }
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    expect(strings.filter((s) => loneSurrogate.test(s))).toEqual([]);
    expect(new Set(rows.map((r) => r.uuid)).size).toBe(rows.length);
  });
});
