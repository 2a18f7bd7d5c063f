/**
 * An attempt whose run was handed to another attempt (its worker was presumed dead: a stale heartbeat, a lost
 * store connection) must stop its destination work as soon as its next heartbeat finds out, not carry on beside
 * its successor.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const HOUR = 3_600_000;

describe('a superseded attempt', () => {
  let h: AppHarness;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-superseded-'));
    // A long heartbeat timeout: the reaper must not be what ends the attempt here.
    h = await startAppHarness({
      env: { HEARTBEAT_TIMEOUT_SECONDS: '600' },
      overrides: { pluginDirs: [path.join(__dirname, '..', 'fixtures', 'execution-plugins')] },
    });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops its destination work within a few heartbeats once another attempt owns the run', async () => {
    const start = new Date('2026-07-01T00:00:00Z');
    await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: 9, teamId: h.teamId, count: 20, start, stepMicros: 120_000_000 }));
    const marker = path.join(dir, 'marker');
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "d", type: "stalling", config: $c }) { id } }`,
      { c: { marker_file: marker } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: createBatchExport.id, s: start.toISOString(), t: new Date(start.getTime() + HOUR).toISOString() },
    );
    const [{ id: runId }] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1`, [createBackfill.id]);
    const state = () => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : '');
    await h.waitFor('the attempt to reach its destination work', async () => state() === 'stalling');

    // Another attempt takes the run over (what the reaper does for a worker presumed dead).
    await h.app.dataSource.query(`UPDATE runs SET attempt = attempt + 1, worker_id = 'another-worker' WHERE id = $1`, [runId]);
    await h.waitFor('the superseded attempt to stop', async () => state() === 'aborted', 10_000);
    // It wrote nothing over its successor's state.
    const [run] = await h.app.dataSource.query(`SELECT status, worker_id FROM runs WHERE id = $1`, [runId]);
    expect(run.worker_id).toBe('another-worker');
    expect(run.status).toBe('Running');
  }, 90_000);
});
