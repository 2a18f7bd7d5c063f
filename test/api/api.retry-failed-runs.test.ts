/**
 * Issue 16.2: "retry all failed in range": retryFailedRuns re-queues every Failed or TimedOut run of one export
 * whose interval overlaps [startAt, endAt) (the runs query's interval filter, so the runs a user sees filtered are
 * the runs retried), in one transaction, and returns how many; a paused export is refused.
 */
import { startApiHarness, type ApiHarness } from '../support/api';

let h: ApiHarness;
let destinationId: string;
const HOUR = 3_600_000;
const base = Math.floor(Date.now() / HOUR) * HOUR - 48 * HOUR;

beforeAll(async () => {
  h = await startApiHarness();
  destinationId = (await h.ok(h.a.token, `mutation { createDestination(input: { name: "files", type: "example-ndjson", config: { directory: "/tmp" } }) { id } }`)).createDestination.id;
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

async function newExport(): Promise<string> {
  return (await h.ok(h.a.token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
    input: { name: 'hourly', destinationId, interval: 'HOUR' },
  })).createBatchExport.id;
}

/** A finished run of hour `hour` after `base`. */
async function insertRun(exportId: string, status: string, hour: number): Promise<string> {
  const start = base + hour * HOUR;
  const [{ id }] = await h.ds.query(
    `INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status, attempt, latest_error, error_kind, finished_at, started_at)
     VALUES ($1, $2, $3, $4, $5, 3, 'boom', 'permanent', now(), now() - interval '1 minute') RETURNING id`,
    [h.a.id, exportId, new Date(start), new Date(start + HOUR), status],
  );
  return id;
}

const RETRY = `mutation($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { retryFailedRuns(batchExportId: $id, startAt: $s, endAt: $e) }`;
const range = (from: number, to: number) => ({ s: new Date(base + from * HOUR).toISOString(), e: new Date(base + to * HOUR).toISOString() });

async function runsOf(exportId: string): Promise<Record<string, { status: string; trigger: string; attempt: number; latest_error: string | null; job: string | null }>> {
  const rows = await h.ds.query(
    `SELECT r.id, r.status, r.trigger, r.attempt, r.latest_error, j.key AS job FROM runs r LEFT JOIN graphile_worker.jobs j ON j.key = 'run:' || r.id WHERE r.batch_export_id = $1`,
    [exportId],
  );
  return Object.fromEntries(rows.map((r: { id: string }) => [r.id, r]));
}

describe('retryFailedRuns', () => {
  it('re-queues the Failed and TimedOut runs overlapping the range, nothing else, and returns the count', async () => {
    const exportId = await newExport();
    const other = await newExport();
    const before = await insertRun(exportId, 'Failed', 0); // outside, before the range
    const failed = await insertRun(exportId, 'Failed', 2);
    const completed = await insertRun(exportId, 'Completed', 3);
    const timedOut = await insertRun(exportId, 'TimedOut', 4);
    const cancelled = await insertRun(exportId, 'Cancelled', 5);
    const after = await insertRun(exportId, 'Failed', 8); // outside, after the range
    const otherExport = await insertRun(other, 'Failed', 3);

    const r = await h.ok(h.a.token, RETRY, { id: exportId, ...range(2, 6) });
    expect(r.retryFailedRuns).toBe(2);
    const runs = await runsOf(exportId);
    for (const id of [failed, timedOut]) {
      expect(runs[id]).toMatchObject({ status: 'Starting', trigger: 'retry', attempt: 0, latest_error: null, job: `run:${id}` });
    }
    for (const [id, status] of [[before, 'Failed'], [completed, 'Completed'], [cancelled, 'Cancelled'], [after, 'Failed']]) {
      expect(runs[id]).toMatchObject({ status, job: null });
    }
    expect((await runsOf(other))[otherExport]).toMatchObject({ status: 'Failed', job: null });
    // Nothing left to retry in the range.
    expect((await h.ok(h.a.token, RETRY, { id: exportId, ...range(2, 6) })).retryFailedRuns).toBe(0);
  });

  it('refuses a paused export, an empty range, a read-only token and another team', async () => {
    const exportId = await newExport();
    const failed = await insertRun(exportId, 'Failed', 1);
    await h.ok(h.a.token, `mutation($id: ID!) { pauseBatchExport(id: $id) { id } }`, { id: exportId });
    const paused = await h.gql(h.a.token, RETRY, { id: exportId, ...range(0, 4) });
    expect(paused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'batchExportId' });
    expect(paused.errors?.[0].message).toMatch(/paused.*unpause/);
    expect((await runsOf(exportId))[failed].status).toBe('Failed');
    await h.ok(h.a.token, `mutation($id: ID!) { unpauseBatchExport(id: $id) { id } }`, { id: exportId });

    const empty = await h.gql(h.a.token, RETRY, { id: exportId, ...range(4, 4) });
    expect(empty.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endAt' });
    expect((await h.gql(h.a.readToken, RETRY, { id: exportId, ...range(0, 4) })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await h.gql(h.b.token, RETRY, { id: exportId, ...range(0, 4) })).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await runsOf(exportId))[failed].status).toBe('Failed');
  });
});
