/**
 * One hour of events for comparing a destination's byte path with its row path: `count` generated events starting
 * at `start`, six of them made hostile (invalid UTF-8, text that is not JSON, escaped NUL and lone surrogates,
 * numbers beyond 64 bits, every control character), plus the generator's hostile set half an hour in.
 */
import { generateEvents, hostileEvents, insertEvents } from '../../src/source';
import type { AppHarness } from './app-harness';
import { insertEventsWithRawBytes } from './invalid-utf8';

export async function seedHostileHour(h: Pick<AppHarness, 'ch' | 'chDatabase' | 'teamId'>, start: Date, count: number): Promise<ReturnType<typeof hostileEvents>> {
  const [a, b, c, d, e, f, ...clean] = generateEvents({ seed: 91, teamId: h.teamId, count, start, stepMicros: 1_000_000 });
  await insertEventsWithRawBytes(h.ch, h.chDatabase, [
    { ...a, distinct_id: 'bad <<FF>> bytes' },
    { ...b, elements_chain: 'chain <<C328>>', properties: '{"a":"<<FEFF>>"}' },
    // Not JSON and not valid UTF-8: both rules on one value.
    { ...c, properties: '{"broken <<FF>>' },
  ]);
  const hostile = hostileEvents({ seed: 92, teamId: h.teamId, start: new Date(start.getTime() + 30 * 60_000) });
  await insertEvents(h.ch, { database: h.chDatabase }, [
    { ...d, distinct_id: 'nul\u0000inside', properties: '{"escaped lone":"\\ud800","escaped nul":"\\u0000","big":1e400,"int":123456789012345678901234567890}' },
    // Not JSON, holding every character JSON.stringify escapes, and the line separators it does not.
    { ...e, properties: `{not json ${Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')} " \\ / \u2028\u2029 \u007f` },
    { ...f, properties: 'plain text', person_properties: '{"unterminated": ' },
    ...clean,
    ...hostile,
  ]);
  return hostile;
}
