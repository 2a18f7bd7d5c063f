import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
let destinationId: string;
const HOUR = 3_600_000;
const hourFloor = (t: number) => Math.floor(t / HOUR) * HOUR;

beforeAll(async () => {
  h = await startApiHarness();
  const r = await h.ok(h.a.token, `mutation { createDestination(input: { name: "files", type: "example-ndjson", config: { directory: "/tmp" } }) { id } }`);
  destinationId = r.createDestination.id;
}, 60_000);
afterAll(async () => {
  await h?.stop();
});
beforeEach(async () => {
  // Each test starts with no live backfills, so the team cap does not leak between tests.
  await h.ds.query(`UPDATE backfills SET status = 'Completed'`);
});

async function newExport(input: Record<string, unknown> = {}): Promise<string> {
  const r = await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
    input: { name: 'hourly', destinationId, interval: 'HOUR', ...input },
  });
  return r.createBatchExport.id;
}

const CREATE_BACKFILL = `mutation($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) {
  createBackfill(input: { batchExportId: $id, startAt: $s, endAt: $e }) { id status startAt endAt estimate { runs rows bytes seconds } progress { totalRuns finishedRuns failedRuns recordsCompleted } } }`;

async function jobsOf(exportId: string) {
  return h.ds.query(`SELECT j.id, j.key, j.queue_name, j.task_identifier, p.payload FROM graphile_worker.jobs j JOIN graphile_worker._private_jobs p ON p.id = j.id
                     WHERE j.queue_name = $1 OR j.queue_name LIKE $1 || ':%' ORDER BY j.id`, [`export:${exportId}`]); // every lane of the export
}

describe('createBackfill', () => {
  it('splits the range into one Starting run per interval and enqueues each, oldest first, in one go', async () => {
    const id = await newExport();
    const end = hourFloor(Date.now()) - 2 * HOUR;
    const start = end - 3 * HOUR;
    const r = await h.ok(h.a.token, CREATE_BACKFILL, { id, s: new Date(start).toISOString(), e: new Date(end).toISOString() });
    const b = r.createBackfill;
    expect(b).toMatchObject({ status: 'STARTING', estimate: { runs: 3, rows: null, bytes: null, seconds: 6 }, progress: { totalRuns: 3, finishedRuns: 0, failedRuns: 0, recordsCompleted: 0 } });
    const runs = await h.ds.query(`SELECT id, status, trigger, backfill_id, interval_start, interval_end, team_id FROM runs WHERE batch_export_id = $1 ORDER BY interval_start`, [id]);
    expect(runs.map((x: { interval_start: Date }) => x.interval_start.getTime())).toEqual([start, start + HOUR, start + 2 * HOUR]);
    for (const run of runs) expect(run).toMatchObject({ status: 'Starting', trigger: 'backfill', backfill_id: b.id, team_id: h.a.id });
    const [row] = await h.ds.query(`SELECT status, total_runs, estimate FROM backfills WHERE id = $1`, [b.id]);
    expect(row).toMatchObject({ status: 'Starting', total_runs: 3 });
    const jobs = await jobsOf(id);
    expect(jobs.map((j: { key: string }) => j.key)).toEqual(runs.map((x: { id: string }) => `run:${x.id}`));
    expect(jobs.every((j: { task_identifier: string }) => j.task_identifier === 'execute_run')).toBe(true);
    expect(jobs.map((j: { payload: { runId: string } }) => j.payload.runId)).toEqual(runs.map((x: { id: string }) => x.id));
    // An events export runs up to maxConcurrentRuns (default 4) at once: consecutive intervals take different lanes.
    expect(new Set(jobs.map((j: { queue_name: string }) => j.queue_name)).size).toBe(3);
  });

  it('widens a mid-interval range to whole intervals and caps it by the export\'s endAt', async () => {
    const base = hourFloor(Date.now()) - 10 * HOUR;
    const id = await newExport({ endAt: new Date(base + 2 * HOUR).toISOString() });
    const r = await h.ok(h.a.token, CREATE_BACKFILL, { id, s: new Date(base + 30 * 60_000).toISOString(), e: new Date(base + 5 * HOUR).toISOString() });
    expect(new Date(r.createBackfill.endAt).getTime()).toBe(base + 2 * HOUR);
    const runs = await h.ds.query(`SELECT interval_start FROM runs WHERE backfill_id = $1 ORDER BY interval_start`, [r.createBackfill.id]);
    expect(runs.map((x: { interval_start: Date }) => x.interval_start.getTime())).toEqual([base, base + HOUR]);
  });

  it('refuses a future endAt, a reversed range and a too-long range, writing nothing', async () => {
    const id = await newExport();
    const now = Date.now();
    const future = await h.gql(h.a.token, CREATE_BACKFILL, { id, s: new Date(now - HOUR).toISOString(), e: new Date(now + HOUR).toISOString() });
    expect(future.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.endAt' });
    expect(future.errors?.[0].message).toMatch(/future/);
    const reversed = await h.gql(h.a.token, CREATE_BACKFILL, { id, s: new Date(now - HOUR).toISOString(), e: new Date(now - 2 * HOUR).toISOString() });
    expect(reversed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.endAt' });
    const tooLong = await h.gql(h.a.token, CREATE_BACKFILL, { id, s: '2000-01-01T00:00:00Z', e: new Date(now - HOUR).toISOString() });
    expect(tooLong.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.startAt' });
    expect(tooLong.errors?.[0].message).toMatch(/at most 10000 runs/);
    expect((await h.ds.query(`SELECT count(*)::int AS n FROM backfills WHERE batch_export_id = $1`, [id]))[0].n).toBe(0);
    expect((await h.ds.query(`SELECT count(*)::int AS n FROM runs WHERE batch_export_id = $1`, [id]))[0].n).toBe(0);
    expect(await jobsOf(id)).toHaveLength(0);
  });

  it('caps concurrent backfills per team with TOO_MANY_REQUESTS', async () => {
    const id = await newExport();
    const end = hourFloor(Date.now()) - HOUR;
    const range = { id, s: new Date(end - HOUR).toISOString(), e: new Date(end).toISOString() };
    const first = await h.ok(h.a.token, CREATE_BACKFILL, range);
    await h.ok(h.a.token, CREATE_BACKFILL, range);
    const third = await h.gql(h.a.token, CREATE_BACKFILL, range);
    expect(third.errors?.[0].extensions?.code).toBe('TOO_MANY_REQUESTS');
    expect(third.errors?.[0].message).toMatch(/limit 2/);
    // Another team's cap is its own.
    const bDest = (await h.ok(h.b.token, `mutation { createDestination(input: { name: "f", type: "example-ndjson", config: { directory: "/tmp" } }) { id } }`)).createDestination.id;
    const bExport = (await h.ok(h.b.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, { input: { name: 'b', destinationId: bDest, interval: 'HOUR' } })).createBatchExport.id;
    await h.ok(h.b.token, CREATE_BACKFILL, { ...range, id: bExport });

    await h.ok(h.a.token, `mutation($id: ID!) { cancelBackfill(id: $id) { status } }`, { id: first.createBackfill.id });
    await h.ok(h.a.token, CREATE_BACKFILL, range);
  });

  it('estimateBackfill counts runs and documents its time assumption', async () => {
    const id = await newExport();
    const end = hourFloor(Date.now()) - HOUR;
    const r = await h.ok(h.a.readToken, `query($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { estimateBackfill(batchExportId: $id, startAt: $s, endAt: $e) { runs rows bytes seconds } }`,
      { id, s: new Date(end - 24 * HOUR).toISOString(), e: new Date(end).toISOString() });
    expect(r.estimateBackfill).toEqual({ runs: 24, rows: null, bytes: null, seconds: 48 });
  });
});

describe('cancelBackfill and progress', () => {
  it('cancels queued runs (removing their jobs), asks the running one to stop, and progress follows the runs', async () => {
    const id = await newExport();
    const end = hourFloor(Date.now()) - HOUR;
    const b = (await h.ok(h.a.token, CREATE_BACKFILL, { id, s: new Date(end - 4 * HOUR).toISOString(), e: new Date(end).toISOString() })).createBackfill;
    const runs = await h.ds.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start`, [b.id]);
    // The worker finished the first two (one failed) and is running the third.
    await h.ds.query(`UPDATE runs SET status = 'Completed', records_completed = 1500 WHERE id = $1`, [runs[0].id]);
    await h.ds.query(`UPDATE runs SET status = 'Failed', latest_error = 'boom' WHERE id = $1`, [runs[1].id]);
    await h.ds.query(`UPDATE runs SET status = 'Running', started_at = now() WHERE id = $1`, [runs[2].id]);
    await h.ds.query(`UPDATE backfills SET status = 'Running' WHERE id = $1`, [b.id]);
    const before = await h.ok(h.a.token, `query($id: ID!) { backfill(id: $id) { status progress { totalRuns finishedRuns failedRuns recordsCompleted } } }`, { id: b.id });
    expect(before.backfill).toEqual({ status: 'RUNNING', progress: { totalRuns: 4, finishedRuns: 2, failedRuns: 1, recordsCompleted: 1500 } });

    const c = await h.ok(h.a.token, `mutation($id: ID!) { cancelBackfill(id: $id) { status finishedAt progress { finishedRuns } } }`, { id: b.id });
    expect(c.cancelBackfill.status).toBe('CANCELLED');
    expect(c.cancelBackfill.finishedAt).toBeTruthy();
    expect(c.cancelBackfill.progress.finishedRuns).toBe(3);
    const after = await h.ds.query(`SELECT status, cancel_requested_at, finished_at FROM runs WHERE backfill_id = $1 ORDER BY interval_start`, [b.id]);
    expect(after.map((x: { status: string }) => x.status)).toEqual(['Completed', 'Failed', 'Running', 'Cancelled']);
    expect(after[2].cancel_requested_at).toBeInstanceOf(Date);
    expect(after[3].finished_at).toBeInstanceOf(Date);
    const keys = (await jobsOf(id)).map((j: { key: string }) => j.key);
    expect(keys).not.toContain(`run:${runs[3].id}`);
    const again = await h.gql(h.a.token, `mutation($id: ID!) { cancelBackfill(id: $id) { status } }`, { id: b.id });
    expect(again.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });
});

describe('retryRun and cancelRun', () => {
  async function insertRun(exportId: string, status: string, offsetHours: number, extra: Record<string, unknown> = {}) {
    const start = hourFloor(Date.now()) - offsetHours * HOUR;
    const [{ id }] = await h.ds.query(
      `INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status, attempt, latest_error, error_kind, finished_at, started_at, records_completed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      [h.a.id, exportId, new Date(start), new Date(start + HOUR), status, extra.attempt ?? 0, extra.latestError ?? null, extra.errorKind ?? null,
        extra.finishedAt ?? null, extra.startedAt ?? null, extra.recordsCompleted ?? 0],
    );
    return id as string;
  }

  it('retryRun re-queues a finished run with a clean slate; unfinished runs are refused', async () => {
    const exportId = await newExport();
    const failed = await insertRun(exportId, 'Failed', 5, { attempt: 10, latestError: 'permission denied', errorKind: 'permanent', finishedAt: new Date(), startedAt: new Date(Date.now() - 90_000) });
    await h.ds.query(`UPDATE runs SET cancel_requested_at = now() WHERE id = $1`, [failed]);
    const r = await h.ok(h.a.token, `mutation($id: ID!) { retryRun(id: $id) { id status trigger attempt latestError errorKind finishedAt cancelRequestedAt durationSeconds } }`, { id: failed });
    expect(r.retryRun).toEqual({ id: failed, status: 'STARTING', trigger: 'RETRY', attempt: 0, latestError: null, errorKind: null, finishedAt: null, cancelRequestedAt: null, durationSeconds: null });
    expect((await jobsOf(exportId)).map((j: { key: string }) => j.key)).toContain(`run:${failed}`);

    const running = await insertRun(exportId, 'Running', 4);
    const refused = await h.gql(h.a.token, `mutation($id: ID!) { retryRun(id: $id) { id } }`, { id: running });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(refused.errors?.[0].message).toMatch(/Running/);
  });

  it('cancelRun cancels a queued run at once and flags a running one for the worker', async () => {
    const exportId = await newExport();
    const queued = await insertRun(exportId, 'Starting', 3);
    await h.ds.query(`SELECT graphile_worker.add_job('execute_run', json_build_object('runId', $1::text), queue_name => $2, job_key => $3)`, [queued, `export:${exportId}`, `run:${queued}`]);
    const c1 = await h.ok(h.a.token, `mutation($id: ID!) { cancelRun(id: $id) { status finishedAt cancelRequestedAt } }`, { id: queued });
    expect(c1.cancelRun.status).toBe('CANCELLED');
    expect(c1.cancelRun.finishedAt).toBeTruthy();
    expect(await jobsOf(exportId)).toHaveLength(0);

    const running = await insertRun(exportId, 'Running', 2, { startedAt: new Date() });
    const c2 = await h.ok(h.a.token, `mutation($id: ID!) { cancelRun(id: $id) { status finishedAt cancelRequestedAt } }`, { id: running });
    expect(c2.cancelRun).toMatchObject({ status: 'RUNNING', finishedAt: null });
    expect(c2.cancelRun.cancelRequestedAt).toBeTruthy();

    const done = await insertRun(exportId, 'Completed', 1);
    const refused = await h.gql(h.a.token, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: done });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  it('runs filters by status and interval, orders, and pages', async () => {
    const exportId = await newExport();
    const ids: string[] = [];
    for (let i = 1; i <= 6; i++) ids.push(await insertRun(exportId, i % 2 ? 'Completed' : 'Failed', i, { startedAt: new Date(Date.now() - 10_000), finishedAt: new Date() }));
    const q = `query($id: ID!, $status: [RunStatus!], $from: DateTimeISO, $to: DateTimeISO, $first: Int, $after: String, $order: RunOrder!) {
      runs(batchExportId: $id, status: $status, intervalFrom: $from, intervalTo: $to, first: $first, after: $after, orderBy: $order) {
        edges { node { id status durationSeconds } } pageInfo { hasNextPage endCursor } } }`;
    const failed = await h.ok(h.a.token, q, { id: exportId, status: ['FAILED'], order: 'INTERVAL_START' });
    expect(failed.runs.edges.map((e: any) => e.node.id)).toEqual([ids[1], ids[3], ids[5]]);
    expect(failed.runs.edges[0].node.durationSeconds).toBeGreaterThan(5);
    const window = await h.ok(h.a.token, q, { id: exportId, from: new Date(hourFloor(Date.now()) - 3 * HOUR).toISOString(), to: new Date(hourFloor(Date.now()) - HOUR).toISOString(), order: 'INTERVAL_START' });
    expect(window.runs.edges.map((e: any) => e.node.id)).toEqual([ids[1], ids[2]]);
    const seen: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page: any = (await h.ok(h.a.token, q, { id: exportId, first: 4, after, order: 'CREATED_AT' })).runs;
      seen.push(...page.edges.map((e: any) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen).toHaveLength(6);
  });
});

describe('logs', () => {
  it('filters by run, level, time and a literal substring, newest first, with pages', async () => {
    const exportId = await newExport();
    const [{ id: runId }] = await h.ds.query(`INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status) VALUES ($1, $2, now() - interval '2 hour', now() - interval '1 hour', 'Completed') RETURNING id`, [h.a.id, exportId]);
    const rows: [string | null, string, string][] = [
      [null, 'INFO', 'export created'],
      [runId, 'INFO', 'read 100% of rows'],
      [runId, 'WARN', 'slow destination: 50_000 rows took 9 s'],
      [runId, 'ERROR', 'write failed: "quoted" \\ 🚀'],
      [runId, 'DEBUG', 'batch 1'],
    ];
    for (const [i, [run, level, message]] of rows.entries()) {
      await h.ds.query(`INSERT INTO log_entries (team_id, batch_export_id, run_id, level, message, timestamp) VALUES ($1, $2, $3, $4, $5, now() - ($6 || ' seconds')::interval)`,
        [h.a.id, exportId, run, level, message, String(100 - i)]);
    }
    const q = `query($e: ID, $r: ID, $level: [LogLevel!], $search: String, $first: Int, $after: String) {
      logs(batchExportId: $e, runId: $r, level: $level, search: $search, first: $first, after: $after) { edges { node { level message runId } } pageInfo { hasNextPage endCursor } } }`;
    const all = await h.ok(h.a.readToken, q, { e: exportId });
    expect(all.logs.edges.map((e: any) => e.node.message)).toEqual(rows.map((r) => r[2]).reverse());
    const byRun = await h.ok(h.a.readToken, q, { r: runId, level: ['WARN', 'ERROR'] });
    expect(byRun.logs.edges.map((e: any) => e.node.level)).toEqual(['ERROR', 'WARN']);
    expect((await h.ok(h.a.readToken, q, { e: exportId, search: '100%' })).logs.edges.map((e: any) => e.node.message)).toEqual(['read 100% of rows']);
    expect((await h.ok(h.a.readToken, q, { e: exportId, search: '50_0' })).logs.edges).toHaveLength(1);
    expect((await h.ok(h.a.readToken, q, { e: exportId, search: '5__0' })).logs.edges).toHaveLength(0); // `_` is literal, not a wildcard
    expect((await h.ok(h.a.readToken, q, { e: exportId, search: '"QUOTED" \\' })).logs.edges).toHaveLength(1);
    const p1 = (await h.ok(h.a.readToken, q, { e: exportId, first: 3 })).logs;
    const p2 = (await h.ok(h.a.readToken, q, { e: exportId, first: 3, after: p1.pageInfo.endCursor })).logs;
    expect([...p1.edges, ...p2.edges].map((e: any) => e.node.message)).toEqual(rows.map((r) => r[2]).reverse());
    expect(p2.pageInfo.hasNextPage).toBe(false);
    // Between the third and fourth line as stored (now() moves on while the test runs).
    const [{ t }] = await h.ds.query(`SELECT timestamp - interval '0.5 seconds' AS t FROM log_entries WHERE batch_export_id = $1 AND level = 'ERROR'`, [exportId]);
    const recent = await h.ok(h.a.readToken, `query($e: ID!, $from: DateTimeISO) { logs(batchExportId: $e, from: $from) { edges { node { message } } } }`, { e: exportId, from: t.toISOString() });
    expect(recent.logs.edges.map((e: any) => e.node.message)).toEqual(['batch 1', 'write failed: "quoted" \\ 🚀']);
    const older = await h.ok(h.a.readToken, `query($e: ID!, $to: DateTimeISO) { logs(batchExportId: $e, to: $to) { edges { node { message } } } }`, { e: exportId, to: t.toISOString() });
    expect(older.logs.edges).toHaveLength(3);
    const none = await h.gql(h.a.readToken, q, {});
    expect(none.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'batchExportId' });
  });
});

describe('deleteBatchExport', () => {
  it('cancels active runs and backfills of the export', async () => {
    const id = await newExport();
    const end = hourFloor(Date.now()) - HOUR;
    const b = (await h.ok(h.a.token, CREATE_BACKFILL, { id, s: new Date(end - 2 * HOUR).toISOString(), e: new Date(end).toISOString() })).createBackfill;
    const [first] = await h.ds.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start LIMIT 1`, [b.id]);
    await h.ds.query(`UPDATE runs SET status = 'Running' WHERE id = $1`, [first.id]);
    await h.ok(h.a.token, `mutation($id: ID!) { deleteBatchExport(id: $id) { id } }`, { id });
    const runs = await h.ds.query(`SELECT status, cancel_requested_at FROM runs WHERE batch_export_id = $1 ORDER BY interval_start`, [id]);
    expect(runs.map((r: { status: string }) => r.status)).toEqual(['Running', 'Cancelled']);
    expect(runs[0].cancel_requested_at).toBeInstanceOf(Date);
    const [bf] = await h.ds.query(`SELECT status FROM backfills WHERE id = $1`, [b.id]);
    expect(bf.status).toBe('Cancelled');
    expect(await jobsOf(id)).toHaveLength(1); // the running run's job stays: its worker owns it
  });
});
