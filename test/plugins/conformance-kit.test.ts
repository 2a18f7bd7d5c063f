/**
 * The kit must catch broken destinations, or passing it means nothing. Each mutant below is the example NDJSON
 * plugin with one classic bug; the matching check has to fail with a message that names the bug.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CHECKS } from '../../src/sdk/conformance/checks';
import { diffRows, timestampMicros } from '../../src/sdk/conformance/compare';
import { notApplicable, type ConformanceCheck, type ConformanceFixture } from '../../src/sdk/conformance';
import { deepJson, eventRows, HOSTILE_STRINGS, HUGE_STRING } from '../../src/sdk/conformance/rows';
import { hourInterval } from '../../src/sdk/conformance/run';
import { DestinationError, EVENTS_SCHEMA, type DestinationPlugin, type RecordBatch, type Row } from '../../src/sdk';
import example, { fileName } from '../fixtures/plugins/example-ndjson';
import exampleFixture from '../conformance/fixtures/example';

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
    });
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
