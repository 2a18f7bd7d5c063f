/**
 * Issue 13.5, on the real worker: the runs of an events export execute up to its `maxConcurrentRuns` at once (a
 * backfill really runs several at a time, never more than the limit, and lands every row once); persons and
 * sessions exports stay one run at a time in interval order whatever the limit says; pausing stops every lane.
 */
import { generatePersons, insertBulkEvents, insertPersons } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const HOUR = 3_600_000;
const ROWS_PER_HOUR = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunTimes {
  id: string;
  status: string;
  attempt: number;
  interval_start: Date;
  started_at: Date | null;
  finished_at: Date | null;
  records_completed: string;
}

/** The most runs whose [started_at, finished_at] overlap at one instant. */
function maxOverlap(runs: RunTimes[]): number {
  const edges = runs
    .filter((r) => r.started_at && r.finished_at)
    .flatMap((r) => [
      { t: r.started_at!.getTime(), d: 1 },
      { t: r.finished_at!.getTime(), d: -1 },
    ])
    .sort((a, b) => a.t - b.t || a.d - b.d); // an end at the same instant as a start is not an overlap
  let now = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (now += e.d));
  return most;
}

describe('concurrent runs of one export', () => {
  let h: AppHarness;

  beforeAll(async () => {
    // More job slots than any export's limit, so the limit (not the slots) is what bounds concurrency.
    h = await startAppHarness({ env: { WORKER_CONCURRENCY: '6', SOURCE_BATCH_SIZE: '1000' } });
    expect(h.teamId).toBe(1); // the bulk generator writes team 1
  }, 120_000);
  afterAll(() => h?.stop());

  let seed = 1300;
  async function seedEvents(start: Date, hours: number): Promise<void> {
    await insertBulkEvents(h.ch, { database: h.chDatabase }, {
      seed: seed++, count: ROWS_PER_HOUR * hours, start, stepMicros: HOUR * 1000 / ROWS_PER_HOUR, insertDelayMicros: 0, paddingBytes: 128,
    });
  }

  async function createExport(model: string, table: string, maxConcurrentRuns: number): Promise<string> {
    const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
      `mutation($n: String!, $c: JSONObject!) { createDestination(input: { name: $n, type: "postgres", config: $c }) { id } }`,
      { n: table, c: { ...h.destination, table_name: table, ssl_mode: 'disable' } },
    );
    const { createBatchExport } = await h.gql<{ createBatchExport: { id: string; maxConcurrentRuns: number } }>(
      `mutation($d: ID!, $m: Model!, $n: Int) { createBatchExport(input: { name: "e", destinationId: $d, model: $m, interval: HOUR, maxConcurrentRuns: $n }) { id maxConcurrentRuns } }`,
      { d: createDestination.id, m: model, n: maxConcurrentRuns },
    );
    expect(createBatchExport.maxConcurrentRuns).toBe(maxConcurrentRuns);
    return createBatchExport.id;
  }

  async function backfill(exportId: string, start: Date, hours: number): Promise<string> {
    const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
      `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
      { e: exportId, s: start.toISOString(), t: new Date(start.getTime() + hours * HOUR).toISOString() },
    );
    return createBackfill.id;
  }

  const runsOf = async (exportId: string): Promise<RunTimes[]> =>
    h.app.dataSource.query(
      `SELECT id, status, attempt, interval_start, started_at, finished_at, records_completed FROM runs WHERE batch_export_id = $1 ORDER BY interval_start`,
      [exportId],
    );
  const backfillDone = (backfillId: string, ms = 120_000) =>
    h.waitFor('the backfill to finish', async () => {
      const [b] = await h.app.dataSource.query(`SELECT status FROM backfills WHERE id = $1`, [backfillId]);
      return ['Completed', 'Failed', 'Cancelled'].includes(b.status) && b.status;
    }, ms);

  it('the API refuses a limit outside 1..32, naming the field', async () => {
    for (const n of [0, 33]) {
      await expect(createExport('EVENTS', `refused_${n}`, n)).rejects.toThrow(/input\.maxConcurrentRuns.*1 to 32/);
    }
  });

  it('an events backfill runs several runs at once, never more than the limit, and lands every row once', async () => {
    const start = new Date('2026-08-01T00:00:00Z');
    const hours = 24;
    await seedEvents(start, hours);
    const exportId = await createExport('EVENTS', 'concurrent_events', 3);
    expect(await backfillDone(await backfill(exportId, start, hours))).toBe('Completed');

    const runs = await runsOf(exportId);
    expect(runs.map((r) => r.status)).toEqual(Array(hours).fill('Completed'));
    const overlap = maxOverlap(runs);
    expect(overlap).toBeGreaterThan(1);
    expect(overlap).toBeLessThanOrEqual(3);
    const [landed] = await h.destinationQuery<{ n: number; distinct: number }>(`SELECT count(*)::int AS n, count(DISTINCT uuid)::int AS distinct FROM concurrent_events`);
    expect(landed).toEqual({ n: ROWS_PER_HOUR * hours, distinct: ROWS_PER_HOUR * hours });
  }, 180_000);

  it('a lowered limit holds once the attempts running at the change finish; every row still lands once', async () => {
    const start = new Date('2026-08-09T00:00:00Z');
    const hours = 24;
    await seedEvents(start, hours);
    const exportId = await createExport('EVENTS', 'lowered_limit', 4);
    const backfillId = await backfill(exportId, start, hours);
    await h.waitFor('runs in several lanes at once', async () => (await runsOf(exportId)).filter((r) => r.status === 'Running').length >= 2, 60_000);
    // Queued jobs keep the lanes of the old limit: the claim, not the queue, must enforce the new one.
    await h.gql(`mutation($id: ID!) { updateBatchExport(input: { id: $id, maxConcurrentRuns: 1 }) { maxConcurrentRuns } }`, { id: exportId });
    const runningAtChange = (await runsOf(exportId)).filter((r) => r.status === 'Running').map((r) => r.id);
    const drained = await h.waitFor('the attempts running at the change to finish', async () => {
      const runs = await runsOf(exportId);
      return runningAtChange.every((id) => runs.find((r) => r.id === id)!.finished_at) && Math.max(...runs.map((r) => r.finished_at?.getTime() ?? 0));
    }, 60_000);
    expect(await backfillDone(backfillId)).toBe('Completed');
    const later = (await runsOf(exportId)).filter((r) => r.started_at!.getTime() >= drained);
    expect(later.length).toBeGreaterThan(4);
    expect(maxOverlap(later)).toBe(1);
    const [landed] = await h.destinationQuery<{ n: number; distinct: number }>(`SELECT count(*)::int AS n, count(DISTINCT uuid)::int AS distinct FROM lowered_limit`);
    expect(landed).toEqual({ n: ROWS_PER_HOUR * hours, distinct: ROWS_PER_HOUR * hours });
  }, 180_000);

  it.each([
    ['PERSONS', 'ordered_persons'],
    ['SESSIONS', 'ordered_sessions'],
  ])('%s runs never overlap and finish in interval order, with a limit of 4', async (model, table) => {
    const start = new Date(model === 'PERSONS' ? '2026-08-03T00:00:00Z' : '2026-08-04T00:00:00Z');
    const hours = 12;
    if (model === 'PERSONS') {
      // 150 persons x 3 generations of changes, spread over the 12 hours.
      await insertPersons(h.ch, { database: h.chDatabase }, generatePersons({ seed: seed++, teamId: h.teamId, persons: 150, start, stepMicros: (hours * HOUR * 1000) / 450 }));
    } else {
      await seedEvents(start, hours);
    }
    const exportId = await createExport(model, table, 4);
    expect(await backfillDone(await backfill(exportId, start, hours))).toBe('Completed');

    const runs = await runsOf(exportId);
    expect(runs.map((r) => r.status)).toEqual(Array(hours).fill('Completed'));
    expect(runs.filter((r) => Number(r.records_completed) > 0).length).toBeGreaterThan(hours / 2); // the runs did work
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i].started_at!.getTime()).toBeGreaterThanOrEqual(runs[i - 1].finished_at!.getTime());
    }
    expect(maxOverlap(runs)).toBe(1);
  }, 180_000);

  it('pausing stops every lane; unpausing finishes the backfill with every row once', async () => {
    const start = new Date('2026-08-06T00:00:00Z');
    const hours = 48;
    await seedEvents(start, hours);
    const exportId = await createExport('EVENTS', 'paused_lanes', 4);
    const backfillId = await backfill(exportId, start, hours);
    await h.waitFor('several runs to have finished', async () => (await runsOf(exportId)).filter((r) => r.status === 'Completed').length >= 4, 60_000);
    await h.gql(`mutation($id: ID!) { pauseBatchExport(id: $id) { paused } }`, { id: exportId });
    const [{ paused_at: pausedAt }] = await h.app.dataSource.query(`SELECT now() AS paused_at`);
    await h.waitFor('the running attempts to finish', async () => !(await runsOf(exportId)).some((r) => r.status === 'Running'), 60_000);
    await sleep(3000); // time for any attempt that should not happen to show up

    const held = await runsOf(exportId);
    const startedAfterPause = held.filter((r) => r.started_at && r.started_at.getTime() > (pausedAt as Date).getTime());
    expect(startedAfterPause).toEqual([]);
    const waiting = held.filter((r) => r.status === 'Starting');
    expect(waiting.length).toBeGreaterThan(0); // the pause came before the backfill's end
    const [{ jobs }] = await h.app.dataSource.query(`SELECT count(*)::int AS jobs FROM graphile_worker.jobs WHERE queue_name LIKE $1`, [`export:${exportId}%`]);
    expect(jobs).toBe(0);

    await h.gql(`mutation($id: ID!) { unpauseBatchExport(id: $id, backfillPausedGap: false) { paused } }`, { id: exportId });
    expect(await backfillDone(backfillId)).toBe('Completed');
    const runs = await runsOf(exportId);
    expect(runs.filter((r) => r.interval_start < new Date(start.getTime() + hours * HOUR)).map((r) => r.status)).toEqual(Array(hours).fill('Completed'));
    expect(maxOverlap(runs)).toBeLessThanOrEqual(4);
    const [landed] = await h.destinationQuery<{ n: number; distinct: number }>(`SELECT count(*)::int AS n, count(DISTINCT uuid)::int AS distinct FROM paused_lanes`);
    expect(landed).toEqual({ n: ROWS_PER_HOUR * hours, distinct: ROWS_PER_HOUR * hours });
  }, 240_000);
});
