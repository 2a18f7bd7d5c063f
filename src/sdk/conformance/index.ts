/**
 * The destination conformance kit: one shared suite every destination passes, built-in or third-party.
 * A destination's test file is one line:
 *
 * ```ts
 * import { runConformance } from 'outport/sdk/conformance';   // in this repo: '../../src/sdk/conformance'
 * import fixture from './fixtures/my-destination';
 * runConformance(fixture);
 * ```
 *
 * The kit generates its own rows (hostile values included, see ./rows), streams them to `plugin.write` in
 * batches of varying sizes with a RunContext it builds, and compares what `readBack` returns with what it wrote
 * (see ./compare for the rules). It needs jest's globals (`describe`, `it`, `expect`) and nothing from the server.
 */
import { CHECKS } from './checks';
import { CONFORMANCE_CHECKS, type ConformanceCheck, type ConformanceFixture } from './types';

export { CONFORMANCE_CHECKS } from './types';
export type { ConformanceCheck, ConformanceFixture } from './types';
export { diffRows, compareValue, timestampMicros } from './compare';
export { replacementProblems, sameValue } from './replacements';
export {
  HOSTILE_STRINGS, HOSTILE_KEY_STRINGS, HUGE_STRING, LOSSY_STRINGS, LOSSY_JSON_TEXTS, deepJson, eventRows, lossyEventRows, personRow, sessionRow,
} from './rows';

/** Generous: real servers on a shared machine, and SDKs that retry a closed port a few times before giving up. */
const CHECK_TIMEOUT_MS = 120_000;

/** Checks that do not apply to this fixture, with the reason: the fixture's own `skip` list, then unlisted models. */
export function notApplicable(fx: ConformanceFixture): Map<ConformanceCheck, string> {
  const out = new Map<ConformanceCheck, string>();
  for (const { check, reason } of fx.skip ?? []) out.set(check, reason);
  if (!out.has('byte-path-matches-rows') && !fx.plugin.writeEncoded) {
    out.set('byte-path-matches-rows', `${fx.plugin.id} has no byte path (writeEncoded); it lands rows only`);
  }
  const byModel: [ConformanceCheck, 'events' | 'persons' | 'sessions'][] = [
    ['events-roundtrip', 'events'],
    ['persons-merge', 'persons'],
    ['sessions-merge', 'sessions'],
  ];
  for (const [check, model] of byModel) {
    if (out.has(check)) continue;
    if (!fx.plugin.models.includes(model)) out.set(check, `${fx.plugin.id} does not export ${model}`);
    else if (model !== 'events' && !fx.plugin.capabilities.merge) {
      out.set(check, `${fx.plugin.id} declares capabilities.merge = false (it keeps every version; readers pick the latest)`);
    }
  }
  return out;
}

function announce(name: string, skipped: Map<ConformanceCheck, string>): void {
  if (skipped.size === 0) return;
  const lines = [...skipped].map(([check, reason]) => `  - ${check} — not applicable: ${reason}`);
  console.log(`Conformance of ${name}: ${skipped.size} check(s) skipped\n${lines.join('\n')}`);
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown })?.then === 'function';
}

/**
 * Defines a jest `describe` block for the destination. One line per destination test file.
 *
 * Return the fixture synchronously when you can (keep slow set-up in `config()`): skipped checks are then
 * reported by jest as skipped (`it.skip('<check> — not applicable: <reason>')`). An async fixture factory still
 * works, but its skips can only be known once it resolves; they are then printed and the test body returns.
 */
export function runConformance(factory: () => ConformanceFixture | Promise<ConformanceFixture>): void {
  const made = factory();
  const known = isThenable(made) ? undefined : made;
  // Keep an early rejection from becoming an unhandled rejection before beforeAll awaits it.
  if (isThenable(made)) made.then(undefined, () => undefined);
  let fixture: ConformanceFixture | undefined;
  const name = known ? `${known.plugin.displayName} (${known.plugin.id})` : 'destination';

  describe(`${name} conformance`, () => {
    beforeAll(async () => {
      fixture = await made;
    }, CHECK_TIMEOUT_MS);
    afterAll(async () => {
      await fixture?.teardown?.();
    }, CHECK_TIMEOUT_MS);

    const skipped = known ? notApplicable(known) : new Map<ConformanceCheck, string>();
    announce(name, skipped);
    for (const check of CONFORMANCE_CHECKS) {
      const reason = skipped.get(check);
      if (reason !== undefined) {
        it.skip(`${check} — not applicable: ${reason}`, () => undefined);
        continue;
      }
      it(`${check}: ${CHECKS[check].title}`, async () => {
        if (!fixture) throw new Error('the conformance fixture failed to load (see beforeAll)');
        const late = known ? undefined : notApplicable(fixture).get(check);
        if (late !== undefined) {
          console.log(`Conformance of ${fixture.plugin.displayName}: ${check} — not applicable: ${late}`);
          return;
        }
        await CHECKS[check].run(fixture);
      }, CHECK_TIMEOUT_MS);
    }
  });
}
