/**
 * Hostile values through a real run (API -> worker -> ClickHouse -> destination): every documented replacement,
 * the source's invalid UTF-8 and the destination's own rules, reaches the run's logs as WARN lines with counts
 * per column, and the run's `replacements` field.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { insertEventsWithRawBytes } from '../support/invalid-utf8';

const HOUR = 3_600_000;

jest.setTimeout(120_000);

describe('replacements reach the run', () => {
  let h: AppHarness;
  let seed = 300;
  const filesRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-replacements-'));
  beforeAll(async () => {
    h = await startAppHarness({ env: { OUTPORT_LOCAL_FILES_ROOT: filesRoot } });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    fs.rmSync(filesRoot, { recursive: true, force: true });
  });

  /** Events of one hour: 5 hostile ones (one per rule) and 3 clean ones. */
  async function seedHostileHour(start: Date) {
    const [a, b, c, d, e, ...clean] = generateEvents({ seed: seed++, teamId: h.teamId, count: 8, start, stepMicros: 60_000_000 });
    await insertEventsWithRawBytes(h.ch, h.chDatabase, [
      { ...a, distinct_id: 'bad <<FF>> bytes' },
      { ...b, elements_chain: 'chain <<C328>>', properties: '{"a":"<<FEFF>>"}' },
    ]);
    await insertEvents(h.ch, { database: h.chDatabase }, [
      { ...c, distinct_id: 'nul\u0000inside' },
      { ...d, properties: '{"lone":"\\ud800"}' },
      { ...e, properties: '{not json' },
      ...clean,
    ]);
  }

  async function runOnce(type: string, config: Record<string, unknown>, start: Date) {
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!, $t: String!) { createDestination(input: { name: "hostile", type: $t, config: $c }) { id } }`,
      { c: config, t: type },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "hostile", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: createBatchExport.id, s: start.toISOString(), t: new Date(start.getTime() + HOUR).toISOString() },
    );
    const [{ id: runId }] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1`, [createBackfill.id]);
    const run = await h.waitFor('the run to finish', async () => {
      const { run: r } = await h.gql<{ run: Record<string, any> }>(
        `query($id: ID!) { run(id: $id) { status latestError recordsCompleted replacements { column rule count description } } }`,
        { id: runId },
      );
      return ['COMPLETED', 'FAILED'].includes(r.status) ? r : undefined;
    }, 40_000);
    const { logs } = await h.gql<{ logs: { edges: { node: { level: string; message: string } }[] } }>(
      `query($id: ID!) { logs(runId: $id, first: 100) { edges { node { level message } } } }`,
      { id: runId },
    );
    return { run, logs: logs.edges.map((e) => e.node) };
  }

  const counts = (list: { column: string; rule: string; count: number }[]) => list.map(({ column, rule, count }) => `${rule}:${column}=${count}`).sort();
  const warnFor = (logs: { level: string; message: string }[], rule: string) =>
    logs.filter((l) => l.level === 'WARN' && l.message.includes(`by the rule ${rule} `));

  it('Postgres: invalid UTF-8, NUL, lone surrogate and invalid JSON, per column, in the logs and on the run', async () => {
    const start = new Date('2026-03-01T00:00:00Z');
    await seedHostileHour(start);
    const { run, logs } = await runOnce('postgres', { ...h.destination, table_name: 'hostile', ssl_mode: 'disable' }, start);
    expect(run.status).toBe('COMPLETED');
    expect(run.recordsCompleted).toBe(8);
    expect(counts(run.replacements)).toEqual([
      'invalid_json_as_string:properties=1',
      'invalid_utf8:distinct_id=1',
      'invalid_utf8:elements_chain=1',
      'invalid_utf8:properties=1',
      'lone_surrogate:properties=1',
      'nul:distinct_id=1',
    ]);
    for (const r of run.replacements) expect(r.description.length).toBeGreaterThan(10);
    expect(warnFor(logs, 'invalid_utf8')).toEqual([
      { level: 'WARN', message: expect.stringMatching(/^Replaced 3 value\(s\) by the rule invalid_utf8 \(.*toValidUTF8.*\): distinct_id 1, elements_chain 1, properties 1\.$/) },
    ]);
    expect(warnFor(logs, 'nul')).toEqual([{ level: 'WARN', message: expect.stringMatching(/: distinct_id 1\.$/) }]);
    expect(warnFor(logs, 'lone_surrogate')).toEqual([{ level: 'WARN', message: expect.stringMatching(/: properties 1\.$/) }]);
    expect(warnFor(logs, 'invalid_json_as_string')).toEqual([{ level: 'WARN', message: expect.stringMatching(/: properties 1\.$/) }]);

    const stored = await h.destinationQuery<{ distinct_id: string; elements_chain: string }>(`SELECT distinct_id, elements_chain FROM hostile ORDER BY distinct_id`);
    expect(stored.map((r) => r.distinct_id)).toEqual(expect.arrayContaining(['bad \uFFFD bytes', 'nul\uFFFDinside']));
    expect(stored.map((r) => r.elements_chain)).toContain('chain \uFFFD(');
  });

  it('local files (JSON Lines): invalid JSON written as strings and invalid UTF-8, in the logs and on the run', async () => {
    const start = new Date('2026-03-02T00:00:00Z');
    await seedHostileHour(start);
    {
      const { run, logs } = await runOnce('local-files', { path: 'hostile', file_format: 'JSONLines', compression: 'none' }, start);
      expect(run.status).toBe('COMPLETED');
      expect(counts(run.replacements)).toEqual([
        'invalid_json_as_string:properties=1',
        'invalid_utf8:distinct_id=1',
        'invalid_utf8:elements_chain=1',
        'invalid_utf8:properties=1',
      ]);
      expect(warnFor(logs, 'invalid_json_as_string')).toEqual([{ level: 'WARN', message: expect.stringMatching(/: properties 1\.$/) }]);
      expect(warnFor(logs, 'invalid_utf8')).toHaveLength(1);
    }
  });
});
