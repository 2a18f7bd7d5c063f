/**
 * The operator's network policy (OUTPORT_DESTINATION_NETWORKS) holds at run time too, not only when a destination
 * is saved: a destination saved before the policy was tightened, or whose host name now resolves into a refused
 * network, fails its runs at once as a configuration error naming the field, and nothing is written there.
 */
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const HOUR = 3_600_000;

describe('network policy at run time', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({ env: { OUTPORT_DESTINATION_NETWORKS: 'deny:127.0.0.0/8' } });
  }, 120_000);
  afterAll(() => h?.stop());

  it('fails a run whose destination host is in a refused network, naming the field, without retrying', async () => {
    const start = new Date('2026-09-01T00:00:00Z');
    await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: 3, teamId: h.teamId, count: 10, start, stepMicros: 60_000_000 }));
    // Saved before the operator denied loopback (the API would refuse it now).
    const { password, ...plain } = h.destination;
    const [dest] = await h.app.dataSource.query(
      `INSERT INTO destinations (team_id, name, type, config, encrypted_secrets) VALUES ($1, 'old', 'postgres', $2, $3) RETURNING id`,
      [h.teamId, { ...plain, host: 'localhost', table_name: 'refused', ssl_mode: 'disable' }, h.box.encrypt({ password })],
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: dest.id },
    );
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: createBatchExport.id, s: start.toISOString(), t: new Date(start.getTime() + HOUR).toISOString() },
    );
    const run = await h.waitFor('the run to finish', async () => {
      const [r] = await h.app.dataSource.query(`SELECT status, error_kind, latest_error, attempt FROM runs WHERE backfill_id = $1`, [createBackfill.id]);
      return ['Completed', 'Failed'].includes(r.status) && r;
    });
    expect(run.status).toBe('Failed');
    expect(run.error_kind).toBe('config');
    expect(run.attempt).toBe(1);
    expect(run.latest_error).toMatch(/host/);
    expect(run.latest_error).toMatch(/OUTPORT_DESTINATION_NETWORKS/);
    const [{ n }] = await h.destinationQuery<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'refused'`);
    expect(n).toBe(0);
  }, 60_000);
});
