/**
 * A run never completes on rows the source did not agree on: when ClickHouse's count of the interval and the rows the
 * run read differ (the data changed in between, or one answer came back short), the attempt fails as a source failure
 * and is retried, and the retry, reading a stable source, completes with every row. Row path and byte path.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateEvents, insertEvents, isoMicros, microsOf } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { backfillHours, runMessages, runRow } from '../support/export-runs';

const HOUR = 3_600_000;

describe('the count and the read of a run must agree', () => {
  let h: AppHarness;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-consistency-'));
    h = await startAppHarness({
      env: { RETRY_INITIAL_SECONDS: '1', SOURCE_BATCH_SIZE: '10' },
      overrides: { pluginDirs: [path.join(__dirname, '..', 'fixtures', 'execution-plugins')] },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const bytes of [false, true]) {
    it(`${bytes ? 'byte' : 'row'} path: rows that appear between the count and the read fail the attempt; the retry lands them all`, async () => {
      const start = new Date(bytes ? '2026-07-02T00:00:00Z' : '2026-07-01T00:00:00Z');
      const events = generateEvents({ seed: bytes ? 12 : 11, teamId: h.teamId, count: 40, start, stepMicros: 60_000_000 });
      await insertEvents(h.ch, { database: h.chDatabase }, events);
      const gateFile = path.join(dir, `gate-${bytes}`);
      const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
        `mutation($c: JSONObject!) { createDestination(input: { name: "gated", type: "gated", config: $c }) { id } }`,
        { c: { gate_file: gateFile, bytes } },
      );
      const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
        `mutation($d: ID!) { createBatchExport(input: { name: "gated", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
        { d: createDestination.id },
      );
      const [runId] = await backfillHours(h, createBatchExport.id, start);
      const gate = () => (fs.existsSync(gateFile) ? fs.readFileSync(gateFile, 'utf8') : '');
      await h.waitFor('the first attempt to be counted and wait at the gate', async () => gate() === 'waiting');
      // A late row of the same interval, inserted after the count (its insertion time inside the interval).
      const [late] = generateEvents({ seed: bytes ? 98 : 99, teamId: h.teamId, count: 1, start: new Date(start.getTime() + 30 * 60_000) });
      await insertEvents(h.ch, { database: h.chDatabase }, [{ ...late, inserted_at: isoMicros(microsOf(start) + 40 * 60_000_000) }]);
      fs.writeFileSync(gateFile, 'go');

      await h.waitFor('the first attempt to fail', async () => (await runRow(h, runId)).attempt > 1 || (await runRow(h, runId)).status === 'FailedRetryable').catch(async (err) => {
        throw new Error(`${err}: ${JSON.stringify(await runRow(h, runId))} ${JSON.stringify(await runMessages(h, runId))}`);
      });
      const [first] = await h.app.dataSource.query(`SELECT status, error FROM run_attempts WHERE run_id = $1 AND attempt = 1`, [runId]);
      expect(first.status).toBe('FailedRetryable');
      expect(first.error).toMatch(/ClickHouse counted 40 rows for this interval, but the run read 41/);

      await h.waitFor('the retry to wait at the gate', async () => gate() === 'waiting');
      fs.writeFileSync(gateFile, 'go');
      await h.waitFor('the retry to complete', async () => (await runRow(h, runId)).status === 'Completed', 60_000);
      expect(await runRow(h, runId)).toMatchObject({ status: 'Completed', records_completed: '41' });
    }, 120_000);
  }

  it('row path: a plugin that returns before reading every batch fails reconciliation, even when it confirms what it read', async () => {
    const start = new Date('2026-07-03T00:00:00Z');
    await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: 13, teamId: h.teamId, count: 40, start, stepMicros: 60_000_000 }));
    const gateFile = path.join(dir, 'gate-first-batch');
    fs.writeFileSync(gateFile, 'go');
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "first", type: "gated", config: $c }) { id } }`,
      { c: { gate_file: gateFile, first_batch_only: true } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "first", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    const [runId] = await backfillHours(h, createBatchExport.id, start);
    // The gate is open: the plugin marks it waiting, so open it again until the run has read.
    const reopen = setInterval(() => fs.writeFileSync(gateFile, 'go'), 20);
    try {
      await h.waitFor('the run to fail', async () => (await runRow(h, runId)).status === 'Failed', 60_000);
    } finally {
      clearInterval(reopen);
    }
    expect((await runRow(h, runId)).latest_error).toMatch(/the destination plugin returned after reading 10 of the interval's 40 rows/);
  }, 120_000);
});
