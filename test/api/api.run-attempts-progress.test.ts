/**
 * Issue 16.2-3 through the real worker: each attempt of a run is kept (`Run.attempts`) and durations are measured
 * from the current attempt (`Run.attemptStartedAt`); a long run's rows landed and bytes grow while it runs.
 */
import { generateEvents, insertBulkEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const HOUR = 3_600_000;

const RUN = `query($id: ID!) { run(id: $id) { status attempt startedAt attemptStartedAt finishedAt durationSeconds recordsRead recordsCompleted bytesExported
  attempts { number workerId status error errorKind startedAt finishedAt durationSeconds recordsRead recordsCompleted bytesExported } } }`;

interface Attempt { number: number; workerId: string | null; status: string; error: string | null; errorKind: string | null; startedAt: string; finishedAt: string | null; durationSeconds: number | null; recordsRead: number; recordsCompleted: number; bytesExported: number }
interface RunView { status: string; attempt: number; startedAt: string; attemptStartedAt: string | null; finishedAt: string | null; durationSeconds: number | null; recordsRead: number; recordsCompleted: number; bytesExported: number; attempts: Attempt[] }

describe('run attempts and live progress', () => {
  let h: AppHarness;
  let proxy: TcpProxy;

  beforeAll(async () => {
    h = await startAppHarness({ env: { RETRY_MAX_ATTEMPTS: '30', SOURCE_BATCH_SIZE: '2000' } });
    proxy = await startTcpProxy(h.destination.port);
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await proxy?.close();
  });

  async function exportTo(config: Record<string, unknown>): Promise<string> {
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($c: JSONObject!) { createDestination(input: { name: "pg", type: "postgres", config: $c }) { id } }`,
      { c: { ...h.destination, ssl_mode: 'disable', ...config } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
      `mutation($d: ID!) { createBatchExport(input: { name: "e", destinationId: $d, model: EVENTS, interval: HOUR }) { id } }`,
      { d: createDestination.id },
    );
    return createBatchExport.id;
  }
  async function backfillOne(exportId: string, start: Date): Promise<string> {
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: exportId, s: start.toISOString(), t: new Date(start.getTime() + HOUR).toISOString() },
    );
    const [run] = await h.app.dataSource.query(`SELECT id FROM runs WHERE backfill_id = $1`, [createBackfill.id]);
    return run.id;
  }
  const view = async (id: string) => (await h.gql<{ run: RunView }>(RUN, { id })).run;

  it('keeps every attempt of a failed-then-retried run and measures its duration from the attempt that finished it', async () => {
    const start = new Date('2026-07-01T00:00:00Z');
    await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: 41, teamId: h.teamId, count: 50, start, stepMicros: 10_000_000 }));
    proxy.up = false;
    const exportId = await exportTo({ port: proxy.port, table_name: 'attempts', connect_timeout_seconds: 2 });
    const runId = await backfillOne(exportId, start);
    await h.waitFor('two failed attempts', async () => {
      const r = await view(runId);
      return r.attempt >= 2 && r.status === 'FAILED_RETRYABLE';
    });
    await new Promise((r) => setTimeout(r, 1500)); // the first attempt's start is now well before the last one's
    proxy.up = true;
    const r = await h.waitFor('the run to complete', async () => {
      const v = await view(runId);
      return v.status === 'COMPLETED' && v;
    });

    expect(r.attempts.map((a) => a.number)).toEqual(Array.from({ length: r.attempt }, (_, i) => i + 1));
    const failed = r.attempts.slice(0, -1);
    const last = r.attempts.at(-1)!;
    for (const a of failed) {
      expect(a).toMatchObject({ status: 'FAILED_RETRYABLE', errorKind: 'RETRYABLE', recordsCompleted: 0 });
      expect(a.error).toBeTruthy();
      expect(a.finishedAt).not.toBeNull();
      expect(a.workerId).toBeTruthy();
    }
    expect(last).toMatchObject({ status: 'COMPLETED', error: null, recordsRead: 50, recordsCompleted: 50 });
    expect(last.bytesExported).toBeGreaterThan(0);
    expect(last.finishedAt).not.toBeNull();
    // The run's own start is the first attempt's; its duration is the attempt that completed it.
    expect(Math.abs(Date.parse(r.startedAt) - Date.parse(r.attempts[0].startedAt))).toBeLessThan(1000);
    expect(r.attemptStartedAt).toBe(last.startedAt);
    expect(Date.parse(r.attemptStartedAt!) - Date.parse(r.startedAt)).toBeGreaterThan(1500);
    expect(r.durationSeconds).toBeCloseTo((Date.parse(r.finishedAt!) - Date.parse(last.startedAt)) / 1000, 2);
    expect(r.durationSeconds!).toBeLessThan((Date.parse(r.finishedAt!) - Date.parse(r.startedAt)) / 1000 - 1.5);

    // A user's retry starts a new attempt 1: the history keeps the earlier ones, and no current attempt until it runs.
    await h.app.dataSource.query(`UPDATE runs SET status = 'Completed' WHERE id = $1`, [runId]);
    const retried = await h.gql<{ retryRun: { attempt: number; attemptStartedAt: string | null; durationSeconds: number | null } }>(
      `mutation($r: ID!) { retryRun(id: $r) { attempt attemptStartedAt durationSeconds } }`, { r: runId });
    expect(retried.retryRun).toEqual({ attempt: 0, attemptStartedAt: null, durationSeconds: null });
    const replayed = await h.waitFor('the retry to complete', async () => {
      const v = await view(runId);
      return v.status === 'COMPLETED' && v.attempt === 1 && v;
    });
    expect(replayed.attempts).toHaveLength(r.attempts.length + 1);
    expect(replayed.attempts.at(-1)).toMatchObject({ number: 1, status: 'COMPLETED', recordsCompleted: 50 });
    expect(replayed.attemptStartedAt).toBe(replayed.attempts.at(-1)!.startedAt);
  }, 90_000);

  it('publishes rows landed and bytes as a long run writes them, growing while it is Running', async () => {
    const start = new Date('2026-07-02T00:00:00Z');
    await insertBulkEvents(h.ch, { database: h.chDatabase }, { seed: 7, count: 150_000, teams: 1, start, stepMicros: 20_000 });
    expect(h.teamId).toBe(1); // the bulk generator writes team 1
    const runId = await backfillOne(await exportTo({ table_name: 'progress' }), start);
    const samples: { completed: number; bytes: number; read: number }[] = [];
    let final: RunView | undefined;
    await h.waitFor('the run to finish', async () => {
      const v = await view(runId);
      if (v.status === 'RUNNING') samples.push({ completed: v.recordsCompleted, bytes: v.bytesExported, read: v.recordsRead });
      if (['COMPLETED', 'FAILED'].includes(v.status)) return (final = v);
      return false;
    }, 80_000);
    expect(final!.status).toBe('COMPLETED');
    // Rows landed and bytes move several times before the end (the stage's merge then holds them at the total).
    const moving = samples.filter((s) => s.completed > 0 && s.completed < 150_000);
    expect(new Set(moving.map((s) => s.completed)).size).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i].completed).toBeGreaterThanOrEqual(samples[i - 1].completed);
      expect(samples[i].bytes).toBeGreaterThanOrEqual(samples[i - 1].bytes);
    }
    const mid = moving[Math.floor(moving.length / 2)];
    expect(mid.completed).toBeLessThanOrEqual(mid.read);
    // Bytes are the running total of what was written: in proportion to the rows landed, not one chunk's size.
    expect(mid.bytes / mid.completed).toBeGreaterThan((final!.bytesExported / final!.recordsCompleted) * 0.5);
    expect(final!.recordsCompleted).toBe(150_000);
  }, 120_000);
});
