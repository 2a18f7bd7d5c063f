/** The body of each conformance check. Each throws an Error whose message says what went wrong, in words. */
import { isDeepStrictEqual } from 'node:util';
import type { DestinationPlugin, WriteResult } from '../destination';
import { isNewerVersion, MODEL_SCHEMAS, NO_PERSON_VERSION, type Model, type Row } from '../models';
import { diffRows, show } from './compare';
import { eventRows, personRow, sessionRow, type Interval, type PersonSpec, type SessionSpec } from './rows';
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
