/** The body of each conformance check. Each throws an Error whose message says what went wrong, in words. */
import { isDeepStrictEqual } from 'node:util';
import { classifyCommonError } from '../classify';
import type { DestinationPlugin, WriteResult } from '../destination';
import { isNewerVersion, MODEL_SCHEMAS, NO_PERSON_VERSION, type Model, type Row } from '../models';
import { diffRows, keyOf, show } from './compare';
import { replacementProblems } from './replacements';
import {
  eventRows, LOSSY_JSON_TEXTS, LOSSY_STRINGS, lossyEventRows, personRow, sessionRow, type Interval, type PersonSpec, type SessionSpec,
} from './rows';
import { classifiedFailure, collectingLogger, hourInterval, runContext, stream, toBatches } from './run';
import type { ConformanceCheck, ConformanceFixture } from './types';

type Fixture = ConformanceFixture<unknown>;

/** The host hands plugins parsed configs (defaults filled in); so does the kit. */
function parsed(fx: Fixture, config: unknown): unknown {
  const r = fx.plugin.configSchema.safeParse(config);
  return r.success ? r.data : config;
}

/** The model the generic checks (empty run, retries, errors) use: events when exported, else the first model. */
export function primaryModel(plugin: DestinationPlugin): Model {
  return plugin.models.includes('events') ? 'events' : plugin.models[0];
}

/** `count` rows of `model` numbered from `from`, timestamps inside `interval`. Same arguments, same rows. */
export function rowsFor(model: Model, interval: Interval, from: number, count: number): Row[] {
  const keys = Array.from({ length: count }, (_, i) => from + i);
  if (model === 'events') return eventRows(interval, from, count);
  if (model === 'persons') return keys.map((key) => personRow(interval, { key, personVersion: 1, tag: 'base' }));
  return keys.map((key) => sessionRow(interval, { key, version: 1, tag: 'base' }));
}

function connectionContext() {
  return { signal: new AbortController().signal, logger: collectingLogger() };
}

async function write(fx: Fixture, config: unknown, opts: Parameters<typeof runContext>[0], rows: Row[]): Promise<WriteResult> {
  const ctx = runContext({ expectedRows: rows.length, ...opts });
  return fx.plugin.write(parsed(fx, config), ctx, stream(toBatches(rows)));
}

/**
 * Writes as the host runs a run: an attempt that fails 'retryable' (say, two runs merging into one table at once
 * and the destination aborting one) runs again as the next attempt, up to 3 attempts.
 */
async function writeRetrying(fx: Fixture, config: unknown, opts: Parameters<typeof runContext>[0] & { runId: string }, rows: Row[]): Promise<WriteResult> {
  for (let attempt = opts.attempt ?? 1; ; attempt++) {
    try {
      return await write(fx, config, { ...opts, attempt }, rows);
    } catch (err) {
      if (attempt >= 3 || (fx.plugin.classifyError ?? classifyCommonError)(err).kind !== 'retryable') throw err;
    }
  }
}

/** Fails the check with a message that reads on its own (no jest diff to decode). */
function fail(message: string): never {
  throw new Error(message);
}

function expectLanded(label: string, result: WriteResult, min: number, max = min): void {
  if (!result || typeof result.rowsLanded !== 'number') fail(`${label}: write must resolve to a WriteResult, got ${show(result)}`);
  if (!(result.rowsLanded >= min && result.rowsLanded <= max)) {
    fail(`${label}: rowsLanded is ${result.rowsLanded}, expected ${min === max ? min : `${min} to ${max}`}`);
  }
  if (!(Number.isFinite(result.bytesWritten) && result.bytesWritten >= 0)) fail(`${label}: bytesWritten must be a number >= 0, got ${show(result.bytesWritten)}`);
}

async function expectStored(fx: Fixture, label: string, config: unknown, model: Model, expected: Row[]): Promise<void> {
  const back = await fx.readBack(config, model);
  const differences = diffRows(MODEL_SCHEMAS[model], expected, back, fx.expectedValue?.bind(fx));
  if (differences.length) fail(`${label}: the ${model} read back differ from what was written:\n  - ${differences.join('\n  - ')}`);
}

/** Final state after merging runs in order: a row replaces the stored one only when its versions are greater. */
function merged(model: Model, ...runs: Row[][]): Row[] {
  const schema = MODEL_SCHEMAS[model];
  const state = new Map<string, Row>();
  for (const row of runs.flat()) {
    const key = JSON.stringify(schema.key.map((k) => row[k]));
    const stored = state.get(key);
    const newer = !stored || isNewerVersion(schema, row, stored);
    if (newer) state.set(key, row);
  }
  return [...state.values()];
}

async function mergeCheck(fx: Fixture, model: Model, run1: Row[], run2: Row[], staleInRun2: number): Promise<void> {
  const config = await fx.config();
  const first = await write(fx, config, { model, interval: hourInterval(0) }, run1);
  expectLanded('run 1 (all keys new)', first, run1.length);
  await expectStored(fx, 'after run 1', config, model, run1);

  const expected = merged(model, run1, run2);
  const runId = `conformance-merge-${model}-${Date.now()}`;
  const second = await write(fx, config, { model, interval: hourInterval(1), runId }, run2);
  expectLanded(`run 2 (${staleInRun2} stale rows may be left uncounted)`, second, run2.length - staleInRun2, run2.length);
  await expectStored(fx, 'after run 2 (merge by version)', config, model, expected);

  const replay = await write(fx, config, { model, interval: hourInterval(1), runId, attempt: 2 }, run2);
  expectLanded('run 2, attempt 2', replay, run2.length - staleInRun2, run2.length);
  await expectStored(fx, 'after replaying run 2', config, model, expected);
}

/** The export ids of the two-exports check: valid folder names, so file destinations can use them as they are. */
export const EXPORT_A = 'conformance-export-a';
export const EXPORT_B = 'conformance-export-b';

/**
 * Each export's rows as its reader sees them: per export with `readBackExport`, else the union of the exports'
 * rows by key (what one table shared by both holds).
 */
async function expectExportsStored(fx: Fixture, label: string, config: unknown, model: Model, selections: { id: string; rows: Row[] }[]): Promise<void> {
  if (!fx.readBackExport) {
    const schema = MODEL_SCHEMAS[model];
    const union = merged(model, ...selections.map((e) => e.rows));
    const back = await fx.readBack(config, model);
    const differences = diffRows(schema, union, back, fx.expectedValue?.bind(fx));
    if (!differences.length) return;
    const present = new Set(back.map((r) => keyOf(schema, r)));
    const lost = selections.map(({ id, rows }) => `${rows.filter((r) => !present.has(keyOf(schema, r))).length} of export ${id}'s ${rows.length} rows are missing`);
    fail(`${label}: the ${model} read back (both exports write one place: every row of either export, once by key) differ: ${lost.join('; ')}:\n  - ${differences.join('\n  - ')}`);
  }
  for (const { id, rows } of selections) {
    const back = await fx.readBackExport(config, model, id);
    const differences = diffRows(MODEL_SCHEMAS[model], rows, back, fx.expectedValue?.bind(fx));
    if (differences.length) fail(`${label}: the ${model} of export ${id} read back differ from what it wrote:\n  - ${differences.join('\n  - ')}`);
  }
}

/** Rows of `model` for the replacements check: the hostile rows, plus values some destinations cannot store as given. */
export function replacementRows(model: Model, interval: Interval): Row[] {
  if (model === 'events') return [...eventRows(interval, 0, 240), ...lossyEventRows(interval, 240)];
  if (model === 'persons') {
    const base = Array.from({ length: 40 }, (_, key) => personRow(interval, { key, personVersion: 1, tag: 'hostile' }));
    const lossy = LOSSY_JSON_TEXTS.map((text, k) => ({ ...personRow(interval, { key: 100 + k, personVersion: 1, tag: 'lossy' }), properties: text }));
    return [...base, ...lossy];
  }
  const base = Array.from({ length: 30 }, (_, key) => sessionRow(interval, { key, version: 1, tag: 'hostile' }));
  const lossy = LOSSY_STRINGS.map((text, k) => ({ ...sessionRow(interval, { key: 100 + k, version: 1, tag: 'lossy' }), entry_url: text, utm_source: text }));
  return [...base, ...lossy];
}

/**
 * The hostile rows of a model that the source can produce (`replacementRows` without the values only a JS string
 * can hold: lone surrogates as characters), for comparing the two data paths. JSON that is not valid, escaped lone
 * surrogates and escaped NULs stay; JSON nested deeper than ClickHouse's parser goes (1,023 levels) is left out:
 * the byte path writes it as a JSON string (rule invalid_json_as_string, see the README's Performance section).
 */
function byteComparableRows(model: Model, interval: Interval): Row[] {
  const sourceCanHold = (v: unknown) => typeof v !== 'string' || (isWellFormed(v) && !v.startsWith('{"deep": [[[['));
  return replacementRows(model, interval).filter((row) => Object.values(row).every(sourceCanHold));
}

function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** Keys written but not read back exactly once: the replacements check needs every row to compare it. */
function presenceProblems(model: Model, written: Row[], back: Row[]): string[] {
  const schema = MODEL_SCHEMAS[model];
  const copies = new Map<string, number>();
  for (const row of back) copies.set(keyOf(schema, row), (copies.get(keyOf(schema, row)) ?? 0) + 1);
  const problems: string[] = [];
  for (const row of written) {
    const n = copies.get(keyOf(schema, row)) ?? 0;
    if (n !== 1) problems.push(`key ${show(keyOf(schema, row))} read back ${n} times, expected once`);
  }
  return problems.slice(0, 10);
}

async function expectFailureKind(fx: Fixture, label: string, kinds: string[], fn: () => Promise<unknown>): Promise<void> {
  let error;
  try {
    error = await classifiedFailure(fx.plugin, fn);
  } catch (err) {
    fail(`${label}: ${(err as Error).message}`);
  }
  if (!kinds.includes(error.kind)) fail(`${label}: classified '${error.kind}' (${error.message}), expected ${kinds.map((k) => `'${k}'`).join(' or ')}`);
  if (!error.message) fail(`${label}: the error has no message; say what failed and which setting to fix`);
}

export const CHECKS: Record<ConformanceCheck, { title: string; run(fx: Fixture): Promise<void> }> = {
  connection: {
    title: 'testConnection succeeds on a valid config',
    async run(fx) {
      await fx.plugin.testConnection(parsed(fx, await fx.config()), connectionContext());
    },
  },

  'config-validation': {
    title: 'a valid config passes the schema; each invalid config fails at its path',
    async run(fx) {
      const valid = fx.plugin.configSchema.safeParse(await fx.config());
      if (!valid.success) fail(`config() does not pass configSchema: ${show(valid.error.issues)}`);
      const shape = (fx.plugin.configSchema as { shape?: Record<string, unknown> }).shape ?? {};
      const strays = fx.plugin.secretFields.filter((f) => !(f in shape));
      if (strays.length) fail(`secretFields ${show(strays)} are not fields of configSchema`);
      if (fx.invalidConfigs.length === 0) fail('invalidConfigs is empty: list at least one config the schema must reject');
      for (const { config, path } of fx.invalidConfigs) {
        const r = fx.plugin.configSchema.safeParse(config);
        if (r.success) fail(`invalid config ${show(config)} was accepted by configSchema`);
        if (!r.error.issues.some((i) => isDeepStrictEqual(i.path, path))) {
          fail(`invalid config ${show(config)} was rejected, but with no issue at ${show(path)}; issues at ${show(r.error.issues.map((i) => i.path))}`);
        }
      }
    },
  },

  'events-roundtrip': {
    title: 'every event lands exactly once with every value intact (hostile values included)',
    async run(fx) {
      const config = await fx.config();
      const rows = eventRows(hourInterval(0), 0, 240);
      expectLanded('events run', await write(fx, config, { model: 'events', interval: hourInterval(0) }, rows), rows.length);
      await expectStored(fx, 'events read back', config, 'events', rows);
    },
  },

  'persons-merge': {
    title: 'a later run merges persons by version: older loses, newer replaces (late person rows, same-version rewrites, moved distinct ids), deletions land',
    async run(fx) {
      const i1 = hourInterval(0);
      const i2 = hourInterval(1);
      const base: PersonSpec[] = Array.from({ length: 40 }, (_, key) => ({ key, personVersion: 1, tag: 'run1' }));
      base[0] = { key: 0, personVersion: 2, tag: 'run1-v2' };
      base[3] = { key: 3, personVersion: 3, distinctIdVersion: 1, tag: 'run1' };
      base[20] = { key: 20, personVersion: NO_PERSON_VERSION, tag: 'run1-no-person-row-yet' };
      base[21] = { key: 21, personVersion: 0, tag: 'run1' };
      base[22] = { key: 22, personVersion: 7, tag: 'run1-old-person' };
      const later: PersonSpec[] = [
        { key: 0, personVersion: 1, tag: 'stale-v1' },
        { key: 1, personVersion: 5, tag: 'run2-v5' },
        { key: 2, personVersion: 2, deleted: true, tag: 'run2-deleted' },
        { key: 3, personVersion: 3, distinctIdVersion: 2, tag: 'run2-distinct-id-version' },
        // The person row arrives after its distinct id, at version 0.
        { key: 20, personVersion: 0, tag: 'run2-person-row-arrived' },
        // Rewritten at the same versions, inserted later (run 2's _inserted_at is later).
        { key: 21, personVersion: 0, tag: 'run2-rewritten' },
        // Moved to another person whose version is lower than the old person's.
        { key: 22, personVersion: 0, distinctIdVersion: 1, tag: 'run2-moved' },
        ...Array.from({ length: 10 }, (_, i) => ({ key: 10 + i, personVersion: 2, tag: 'run2' })),
        ...Array.from({ length: 10 }, (_, i) => ({ key: 40 + i, personVersion: 1, tag: 'run2-new' })),
      ];
      await mergeCheck(fx, 'persons', base.map((p) => personRow(i1, p)), later.map((p) => personRow(i2, p)), 1);
    },
  },

  'sessions-merge': {
    title: 'a later run merges sessions by version: older loses, newer replaces',
    async run(fx) {
      const i1 = hourInterval(0);
      const i2 = hourInterval(1);
      const base: SessionSpec[] = Array.from({ length: 30 }, (_, key) => ({ key, version: key === 0 ? 3 : 1, tag: 'run1' }));
      const later: SessionSpec[] = [
        { key: 0, version: 2, tag: 'stale' },
        { key: 1, version: 2, tag: 'run2' },
        ...Array.from({ length: 5 }, (_, i) => ({ key: 10 + i, version: 4, tag: 'run2' })),
        ...Array.from({ length: 5 }, (_, i) => ({ key: 30 + i, version: 1, tag: 'run2-new' })),
      ];
      await mergeCheck(fx, 'sessions', base.map((s) => sessionRow(i1, s)), later.map((s) => sessionRow(i2, s)), 1);
    },
  },

  'empty-run': {
    title: 'a run with zero batches succeeds and lands nothing',
    async run(fx) {
      const config = await fx.config();
      for (const model of fx.plugin.models) {
        const result = await write(fx, config, { model, interval: hourInterval(0) }, []);
        expectLanded(`empty ${model} run`, result, 0);
        await expectStored(fx, `empty ${model} run`, config, model, []);
      }
    },
  },

  'retry-no-duplicates': {
    title: 'an aborted attempt leaves nothing; retries and re-exports of the interval never duplicate',
    async run(fx) {
      const model = primaryModel(fx.plugin);
      const config = await fx.config();
      const interval = hourInterval(0);
      const rows = rowsFor(model, interval, 0, 200);
      const batches = toBatches(rows);
      const runId = `conformance-retry-${Date.now()}`;

      const controller = new AbortController();
      const ctx = runContext({ model, interval, runId, attempt: 1, signal: controller.signal, expectedRows: rows.length });
      let aborted = false;
      try {
        await fx.plugin.write(parsed(fx, config), ctx, stream(batches, { batches: Math.ceil(batches.length / 2), controller }));
      } catch {
        aborted = true;
      }
      if (!aborted) fail('attempt 1: write resolved although its batches threw mid-stream (a failing source must fail the write)');
      await expectStored(fx, 'after attempt 1 was aborted mid-stream (must leave the destination as before)', config, model, []);

      expectLanded('attempt 2', await write(fx, config, { model, interval, runId, attempt: 2 }, rows), rows.length);
      await expectStored(fx, 'after attempt 2', config, model, rows);
      expectLanded('attempt 3 (replay)', await write(fx, config, { model, interval, runId, attempt: 3 }, rows), rows.length);
      await expectStored(fx, 'after attempt 3 (replay)', config, model, rows);

      const withLate = [...rows, ...rowsFor(model, interval, 200, 40)];
      expectLanded('another run re-exporting the interval', await write(fx, config, { model, interval }, withLate), withLate.length);
      await expectStored(fx, 'after another run re-exported the interval with late rows', config, model, withLate);
    },
  },

  'overlap-no-duplicates': {
    title: 'a run whose interval overlaps an earlier run leaves each row once',
    async run(fx) {
      const model = primaryModel(fx.plugin);
      const config = await fx.config();
      const firstHour = rowsFor(model, hourInterval(0), 0, 100);
      const secondHour = rowsFor(model, hourInterval(1), 100, 100);
      const thirdHour = rowsFor(model, hourInterval(2), 200, 60);
      const a = [...firstHour, ...secondHour];
      const b = [...secondHour, ...thirdHour];
      expectLanded('run over hours 0-2', await write(fx, config, { model, interval: hourInterval(0, 2) }, a), a.length);
      expectLanded('run over hours 1-3', await write(fx, config, { model, interval: hourInterval(1, 2) }, b), b.length);
      await expectStored(fx, 'after two overlapping runs', config, model, [...firstHour, ...secondHour, ...thirdHour]);
    },
  },

  'two-exports-one-destination': {
    title: "two exports into one destination keep every row of each, also when one is retried or re-run over the same interval",
    async run(fx) {
      const model = primaryModel(fx.plugin);
      const config = await fx.config();
      const interval = hourInterval(0);
      const source = rowsFor(model, interval, 0, 160);
      // Two exports' selections of the same interval (their filters differ): each half its own, the first rows both.
      const a = source.filter((_, i) => i % 2 === 0 || i < 20);
      const b = source.filter((_, i) => i % 2 === 1 || i < 20);
      const stamp = Date.now();
      const runA = `conformance-two-exports-a-${stamp}`;
      const runB = `conformance-two-exports-b-${stamp}`;
      const stored = (rowsA: Row[]) => [{ id: EXPORT_A, rows: rowsA }, { id: EXPORT_B, rows: b }];

      // Different exports run on different queues: their runs of one interval really do run at the same time.
      const [first, second] = await Promise.all([
        writeRetrying(fx, config, { model, interval, exportId: EXPORT_A, runId: runA }, a),
        writeRetrying(fx, config, { model, interval, exportId: EXPORT_B, runId: runB }, b),
      ]);
      expectLanded(`export A's run`, first, a.length);
      expectLanded(`export B's run`, second, b.length);
      await expectExportsStored(fx, 'after two exports wrote the same interval at once', config, model, stored(a));

      expectLanded(`export A's run, attempt 2`, await write(fx, config, { model, interval, exportId: EXPORT_A, runId: runA, attempt: 2 }, a), a.length);
      await expectExportsStored(fx, "after export A's run was retried", config, model, stored(a));

      // A backfill of export A over the same interval, which now also selects late rows.
      const aWithLate = [...a, ...rowsFor(model, interval, 160, 20)];
      expectLanded(`export A re-run over the interval`, await write(fx, config, { model, interval, exportId: EXPORT_A }, aWithLate), aWithLate.length);
      await expectExportsStored(fx, 'after export A re-ran the interval', config, model, stored(aWithLate));

      expectLanded(`export B's run, attempt 2`, await write(fx, config, { model, interval, exportId: EXPORT_B, runId: runB, attempt: 2 }, b), b.length);
      await expectExportsStored(fx, "after export B's run was retried", config, model, stored(aWithLate));
    },
  },

  'replacements-reported': {
    title: 'every value read back that differs from the value written is reported as a replacement on its column, with matching counts',
    async run(fx) {
      const config = await fx.config();
      const interval = hourInterval(0);
      for (const model of fx.plugin.models) {
        const rows = replacementRows(model, interval);
        const result = await write(fx, config, { model, interval }, rows);
        expectLanded(`${model} run`, result, rows.length);
        const back = await fx.readBack(config, model);
        const missing = presenceProblems(model, rows, back);
        if (missing.length) fail(`${model} run: rows read back are missing or duplicated:\n  - ${missing.join('\n  - ')}`);
        const problems = replacementProblems(MODEL_SCHEMAS[model], rows, back, result.replacements);
        if (problems.length) {
          fail(`${model} run: WriteResult.replacements ${show(result.replacements ?? [])} does not account for what changed:\n  - ${problems.join('\n  - ')}`);
        }
      }
    },
  },

  'byte-path-matches-rows': {
    title: 'the byte path (ClickHouse-encoded wire format) lands exactly what the row path lands, value by value',
    async run(fx) {
      if (!fx.plugin.writeEncoded || !fx.plugin.wireFormat) fail('the plugin has writeEncoded but no wireFormat(): the host cannot know which format to ask for');
      if (!fx.encodeRows) fail("the plugin has a byte path (writeEncoded) but the fixture has no encodeRows(): add one (see ConformanceFixture.encodeRows) so the kit can check it");
      const interval = hourInterval(0);
      for (const model of fx.plugin.models) {
        const schema = MODEL_SCHEMAS[model];
        const rows = byteComparableRows(model, interval);
        const viaRows = await fx.config();
        const viaBytes = await fx.config();
        const format = fx.plugin.wireFormat(parsed(fx, viaBytes), { model, schema });
        if (!format) fail(`wireFormat() chose the row path for the fixture's config(): give the fixture a config that takes the byte path`);
        expectLanded(`${model} row path`, await write(fx, viaRows, { model, interval }, rows), rows.length);
        const encoded = await fx.encodeRows(rows, schema, format);
        try {
          const ctx = runContext({ model, interval, expectedRows: rows.length });
          const result = await fx.plugin.writeEncoded(parsed(fx, viaBytes), ctx, encoded.run);
          expectLanded(`${model} byte path (${format.format}, ${format.compression})`, result, rows.length);
        } finally {
          await encoded.done();
        }
        const sorted = (list: Row[]) => [...list].sort((a, b) => (keyOf(schema, a) < keyOf(schema, b) ? -1 : 1));
        const a = sorted(await fx.readBack(viaRows, model));
        const b = sorted(await fx.readBack(viaBytes, model));
        if (a.length !== rows.length || b.length !== rows.length) fail(`${model}: read back ${a.length} rows from the row path and ${b.length} from the byte path, ${rows.length} written`);
        const differences: string[] = [];
        for (let i = 0; i < a.length && differences.length < 10; i++) {
          if (!isDeepStrictEqual(a[i], b[i])) differences.push(`row path ${show(a[i])}\n    byte path ${show(b[i])}`);
        }
        if (differences.length) fail(`${model} (${format.format}, ${format.compression}): the byte path landed other values than the row path:\n  - ${differences.join('\n  - ')}`);
      }
    },
  },

  'permanent-error': {
    title: "a broken config fails as 'config' or 'permanent', never 'retryable'",
    async run(fx) {
      if (!fx.brokenConfig) {
        throw new Error("the fixture has no brokenConfig(): add one (wrong password, missing bucket) or skip 'permanent-error' with a reason");
      }
      const config = parsed(fx, await fx.brokenConfig(await fx.config()));
      const model = primaryModel(fx.plugin);
      await expectFailureKind(fx, 'testConnection(brokenConfig)', ['config', 'permanent'], () => fx.plugin.testConnection(config, connectionContext()));
      const rows = rowsFor(model, hourInterval(0), 0, 20);
      await expectFailureKind(fx, 'write(brokenConfig)', ['config', 'permanent'], () =>
        fx.plugin.write(config, runContext({ model, interval: hourInterval(0) }), stream(toBatches(rows))),
      );
    },
  },

  'outage-retryable': {
    title: "an unreachable destination fails as 'retryable'",
    async run(fx) {
      if (!fx.unreachableConfig) {
        throw new Error("the fixture has no unreachableConfig(): add one (closed port) or skip 'outage-retryable' with a reason");
      }
      const config = parsed(fx, await fx.unreachableConfig(await fx.config()));
      const model = primaryModel(fx.plugin);
      await expectFailureKind(fx, 'testConnection(unreachableConfig)', ['retryable', 'config', 'permanent'], () =>
        fx.plugin.testConnection(config, connectionContext()),
      );
      const rows = rowsFor(model, hourInterval(0), 0, 20);
      await expectFailureKind(fx, 'write(unreachableConfig)', ['retryable'], () =>
        fx.plugin.write(config, runContext({ model, interval: hourInterval(0) }), stream(toBatches(rows))),
      );
    },
  },
};
