/**
 * Retention: the scheduler role deletes finished runs older than RUN_RETENTION_DAYS and log entries older than
 * LOG_RETENTION_DAYS, never unfinished runs nor an export's runs of its latest AUTO_PAUSE_WINDOW intervals, and
 * finished backfills once none of their runs is left.
 */
import { pruneOnce } from '../../src/store/retention';
import { startAppHarness, type AppHarness } from '../support/app-harness';
import { seedDestination, seedExport } from '../support/seed';

const HOUR = 3_600_000;
const BASE = Date.parse('2026-01-01T00:00:00Z');

/** Rows seeded straight into the store of the harness `harness()` returns (started in beforeAll). */
function seeding(harness: () => AppHarness) {
  const h = { get box() { return harness().box; }, get teamId() { return harness().teamId; } };
  const ds = () => harness().app.dataSource;
  async function newExport(): Promise<string> {
    const destinationId = await seedDestination(ds(), h.box, h.teamId, 'postgres', { host: '127.0.0.1', database: 'x', user: 'x' });
    return seedExport(ds(), { teamId: h.teamId, destinationId, paused: true });
  }
  async function run(exportId: string, status: string, daysAgo: number, hour: number, backfillId: string | null = null): Promise<string> {
    const [row] = await ds().query(
      `INSERT INTO runs (team_id, batch_export_id, backfill_id, interval_start, interval_end, status, created_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6::text, now() - make_interval(days => $7),
               CASE WHEN $6::text IN ('Completed', 'Failed', 'Cancelled', 'TimedOut') THEN now() - make_interval(days => $7) END)
       RETURNING id`,
      [h.teamId, exportId, backfillId, new Date(BASE + hour * HOUR), new Date(BASE + (hour + 1) * HOUR), status, daysAgo],
    );
    return row.id;
  }
  async function backfill(exportId: string, daysAgo: number): Promise<string> {
    const [row] = await ds().query(
      `INSERT INTO backfills (team_id, batch_export_id, start_at, end_at, status, created_at, finished_at)
       VALUES ($1, $2, $3, $4, 'Completed', now() - make_interval(days => $5), now() - make_interval(days => $5)) RETURNING id`,
      [h.teamId, exportId, new Date(BASE), new Date(BASE + 10 * HOUR), daysAgo],
    );
    return row.id;
  }
  async function logEntry(exportId: string, daysAgo: number, message: string): Promise<void> {
    await ds().query(
      `INSERT INTO log_entries (team_id, batch_export_id, level, message, timestamp) VALUES ($1, $2, 'INFO', $3, now() - make_interval(days => $4))`,
      [h.teamId, exportId, message, daysAgo],
    );
  }
  const runsOf = async (exportId: string) =>
    ((await ds().query(`SELECT id FROM runs WHERE batch_export_id = $1 ORDER BY interval_start`, [exportId])) as { id: string }[]).map((r) => r.id);
  return { ds, newExport, run, backfill, logEntry, runsOf };
}

describe('retention of runs and logs by the scheduler role', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({
      roles: 'scheduler',
      env: { RUN_RETENTION_DAYS: '90', LOG_RETENTION_DAYS: '30', AUTO_PAUSE_WINDOW: '3', RETENTION_INTERVAL_SECONDS: '1' },
    });
  }, 60_000);
  afterAll(() => h?.stop());
  const { ds, newExport, run, backfill, logEntry, runsOf } = seeding(() => h);

  it('prunes old finished runs and old logs, keeps unfinished runs and the latest intervals, drops emptied backfills', async () => {
    const e1 = await newExport();
    const e2 = await newExport();
    const emptied = await backfill(e1, 100);
    const stillUsed = await backfill(e1, 100);
    const statuses = ['Completed', 'Failed', 'Cancelled', 'TimedOut'];
    const old: string[] = [];
    for (let hour = 0; hour < 9; hour++) old.push(await run(e1, statuses[hour % 4], 100, hour, hour < 3 ? emptied : null));
    const oldButLatest = await run(e1, 'Completed', 100, 9, stillUsed); // among the latest 3 intervals (9, 10, 11)
    const unfinished = await run(e1, 'FailedRetryable', 120, 10);
    const recent = await run(e1, 'Completed', 10, 11);
    // An export with fewer runs than AUTO_PAUSE_WINDOW keeps them all, however old.
    const e2Runs = [await run(e2, 'Failed', 200, 0), await run(e2, 'Completed', 200, 1)];
    for (let i = 0; i < 5; i++) await logEntry(e1, 40, `old ${i}`);
    await logEntry(e1, 5, 'recent 1');
    await logEntry(e1, 5, 'recent 2');
    await logEntry(e2, 31, 'old');
    expect(old).toHaveLength(9);

    await h.waitFor('the scheduler to prune', async () => (await runsOf(e1)).length === 3, 20_000);
    expect(await runsOf(e1)).toEqual([oldButLatest, unfinished, recent]);
    expect(await runsOf(e2)).toEqual(e2Runs);
    await h.waitFor('the old log entries to go', async () => {
      const rows: { message: string }[] = await ds().query(`SELECT message FROM log_entries WHERE batch_export_id = ANY($1) ORDER BY message`, [[e1, e2]]);
      return rows.map((r) => r.message).join() === 'recent 1,recent 2';
    }, 10_000);
    const backfills: { id: string }[] = await ds().query(`SELECT id FROM backfills WHERE batch_export_id = $1`, [e1]);
    expect(backfills.map((b) => b.id)).toEqual([stillUsed]);

    // Later passes delete nothing more.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await runsOf(e1)).toEqual([oldButLatest, unfinished, recent]);
  }, 50_000);
});

describe('a retention pass', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness({ roles: 'api' }); // no scheduler: no pruner of its own
  }, 60_000);
  afterAll(() => h?.stop());
  const { ds, newExport, run, logEntry, runsOf } = seeding(() => h);

  it('deletes in batches until nothing old is left, and 0 days keeps everything', async () => {
    const e = await newExport();
    const runs: string[] = [];
    for (let hour = 0; hour < 7; hour++) runs.push(await run(e, 'Completed', 95, hour));
    for (let i = 0; i < 5; i++) await logEntry(e, 60, `old ${i}`);
    await logEntry(e, 1, 'new');
    expect(await pruneOnce(ds(), { runDays: 0, logDays: 0, keepLatestRuns: 1, batchSize: 2, pauseMs: 0 })).toEqual({ runs: 0, logEntries: 0, backfills: 0 });
    expect(await runsOf(e)).toEqual(runs);

    expect(await pruneOnce(ds(), { runDays: 90, logDays: 30, keepLatestRuns: 1, batchSize: 2, pauseMs: 0 })).toEqual({ runs: 6, logEntries: 5, backfills: 0 });
    expect(await runsOf(e)).toEqual([runs[6]]);
    const logs: { message: string }[] = await ds().query(`SELECT message FROM log_entries WHERE batch_export_id = $1`, [e]);
    expect(logs.map((l) => l.message)).toEqual(['new']);
    expect(await pruneOnce(ds(), { runDays: 90, logDays: 30, keepLatestRuns: 1, batchSize: 2, pauseMs: 0 })).toEqual({ runs: 0, logEntries: 0, backfills: 0 });
  }, 30_000);
});
