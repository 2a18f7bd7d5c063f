/**
 * Subscriptions over graphql-ws on the same port and path as HTTP, fed by Postgres LISTEN/NOTIFY: changes made by
 * this API and by ANOTHER PROCESS (a child `node` that updates a run and NOTIFYs, as a worker does) reach
 * subscribers, always filtered by the subscriber's team.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { collect, startApiHarness, type ApiHarness } from '../support/api';

const HOUR = 3_600_000;
let h: ApiHarness;
const A: Record<string, string> = {};
const B: Record<string, string> = {};

async function setUpTeam(token: string, into: Record<string, string>) {
  into.destination = (await h.ok(token, `mutation { createDestination(input: { name: "d", type: "vault-sink", config: { endpoint: "https://x.example.com", apiKey: "good-key-123" } }) { id } }`)).createDestination.id;
  into.export = (await h.ok(token, `mutation($input: CreateBatchExportInput!) { createBatchExport(input: $input) { id } }`, {
    input: { name: 'e', destinationId: into.destination, interval: 'HOUR' },
  })).createBatchExport.id;
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  into.backfill = (await h.ok(token, `mutation($id: ID!, $s: DateTimeISO!, $e: DateTimeISO!) { createBackfill(input: { batchExportId: $id, startAt: $s, endAt: $e }) { id } }`, {
    id: into.export, s: new Date(end - 3 * HOUR).toISOString(), e: new Date(end).toISOString(),
  })).createBackfill.id;
  const runs = await h.ds.query(`SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start`, [into.backfill]);
  [into.run1, into.run2, into.run3] = runs.map((r: { id: string }) => r.id);
}

/** What a worker process does when a run progresses: UPDATE the row, then NOTIFY (kind run, plus kind backfill). */
const WORKER_SCRIPT = `
const { Client } = require('pg');
(async () => {
  const [url, runId, status, recordsCompleted] = process.argv.slice(1);
  const c = new Client(url);
  await c.connect();
  const { rows: [r] } = await c.query(
    "UPDATE runs SET status = $2, records_completed = $3, records_read = $3, started_at = coalesce(started_at, now()) WHERE id = $1 RETURNING *",
    [runId, status, Number(recordsCompleted)]);
  const at = new Date().toISOString();
  await c.query("SELECT pg_notify('outport_changes', $1)", [JSON.stringify({ kind: 'run', teamId: r.team_id, batchExportId: r.batch_export_id,
    runId: r.id, backfillId: r.backfill_id, status: r.status, recordsCompleted: Number(r.records_completed), recordsRead: Number(r.records_read),
    recordsTotalCount: null, bytesExported: 0, latestError: null, intervalStart: r.interval_start.toISOString(), intervalEnd: r.interval_end.toISOString(), at })]);
  if (r.backfill_id) await c.query("SELECT pg_notify('outport_changes', $1)", [JSON.stringify({ kind: 'backfill', teamId: r.team_id,
    batchExportId: r.batch_export_id, backfillId: r.backfill_id, at })]);
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function otherProcessUpdates(runId: string, status: string, recordsCompleted: number): Promise<void> {
  await promisify(execFile)(process.execPath, ['-e', WORKER_SCRIPT, h.dbUrl, runId, status, String(recordsCompleted)], {
    cwd: path.resolve(__dirname, '..', '..'),
    timeout: 20_000,
  });
}

beforeAll(async () => {
  h = await startApiHarness();
  await setUpTeam(h.a.token, A);
  await setUpTeam(h.b.token, B);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const RUN_UPDATED = `subscription($id: ID) { runUpdated(batchExportId: $id) { id status recordsCompleted batchExportId backfillId } }`;
const PROGRESS = `subscription($id: ID!) { backfillProgress(backfillId: $id) { id status progress { totalRuns finishedRuns failedRuns recordsCompleted } } }`;

describe('subscriptions', () => {
  it('runUpdated delivers a change made by another process, as the run\'s current state', async () => {
    const sub = collect(h.ws({ authorization: `Bearer ${h.a.readToken}` }), RUN_UPDATED, { id: A.export });
    await h.listening(1);
    await otherProcessUpdates(A.run1, 'Running', 0);
    await otherProcessUpdates(A.run1, 'Completed', 1234);
    await sub.until(() => sub.results.length >= 2);
    expect(sub.results.map((r) => r.data?.runUpdated)).toEqual([
      { id: A.run1, status: 'RUNNING', recordsCompleted: 0, batchExportId: A.export, backfillId: A.backfill },
      { id: A.run1, status: 'COMPLETED', recordsCompleted: 1234, batchExportId: A.export, backfillId: A.backfill },
    ]);
    sub.unsubscribe();
    await h.listening(0);
  });

  it("runUpdated reads each event's attempts afresh (batched loads are not cached for the subscription's life)", async () => {
    const sub = collect(h.ws({ authorization: `Bearer ${h.a.readToken}` }), `subscription($id: ID) { runUpdated(batchExportId: $id) { id attempts { number status } } }`, { id: A.export });
    await h.listening(1);
    const attempt = (n: number, status: string) =>
      h.ds.query(`INSERT INTO run_attempts (run_id, team_id, attempt, started_at, status) VALUES ($1, $2, $3, now(), $4)`, [A.run2, h.a.id, n, status]);
    await attempt(1, 'Running');
    await otherProcessUpdates(A.run2, 'Running', 0);
    await sub.until(() => sub.results.length >= 1);
    await h.ds.query(`UPDATE run_attempts SET status = 'FailedRetryable', finished_at = now() WHERE run_id = $1`, [A.run2]);
    await attempt(2, 'Running');
    await otherProcessUpdates(A.run2, 'Running', 0);
    await sub.until(() => sub.results.length >= 2);
    expect(sub.results.map((r) => r.data?.runUpdated.attempts)).toEqual([
      [{ number: 1, status: 'RUNNING' }],
      [{ number: 1, status: 'FAILED_RETRYABLE' }, { number: 2, status: 'RUNNING' }],
    ]);
    sub.unsubscribe();
    await h.listening(0);
    await h.ds.query(`DELETE FROM run_attempts WHERE run_id = $1`, [A.run2]);
    await h.ds.query(`UPDATE runs SET status = 'Starting', started_at = NULL WHERE id = $1`, [A.run2]);
  });

  it('runUpdated delivers changes made through the API (cancelRun) after commit', async () => {
    const sub = collect(h.ws({ token: h.a.token }), RUN_UPDATED, {});
    await h.listening(1);
    await h.ok(h.a.token, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: A.run3 });
    await sub.until(() => sub.results.length >= 1);
    expect(sub.results[0].data?.runUpdated).toMatchObject({ id: A.run3, status: 'CANCELLED' });
    sub.unsubscribe();
    await h.listening(0);
  });

  it('backfillProgress re-reads progress from the store on each change', async () => {
    const sub = collect(h.ws({ authorization: `Bearer ${h.a.token}` }), PROGRESS, { id: A.backfill });
    await h.listening(1);
    await otherProcessUpdates(A.run2, 'Failed', 10);
    await sub.until(() => sub.results.length >= 1);
    // run1 Completed (1234 rows), run2 Failed (10), run3 Cancelled: all three finished.
    expect(sub.results[0].data?.backfillProgress).toEqual({
      id: A.backfill, status: 'STARTING', progress: { totalRuns: 3, finishedRuns: 3, failedRuns: 1, recordsCompleted: 1244 },
    });
    sub.unsubscribe();
    await h.listening(0);
  });

  it("a team never receives another team's changes", async () => {
    const bAll = collect(h.ws({ authorization: `Bearer ${h.b.token}` }), RUN_UPDATED, {});
    const bProgress = collect(h.ws({ authorization: `Bearer ${h.b.token}` }), PROGRESS, { id: B.backfill });
    const aAll = collect(h.ws({ authorization: `Bearer ${h.a.token}` }), RUN_UPDATED, {});
    await h.listening(3);
    await otherProcessUpdates(A.run1, 'Running', 5);
    await h.ok(h.a.token, `mutation($id: ID!) { retryRun(id: $id) { id } }`, { id: A.run2 });
    // A's subscriber sees both changes; then B's own change arrives at B's subscribers.
    await aAll.until(() => aAll.results.length >= 2);
    await otherProcessUpdates(B.run1, 'Running', 7);
    await bAll.until(() => bAll.results.length >= 1);
    await bProgress.until(() => bProgress.results.length >= 1);
    expect(bAll.results.map((r) => r.data?.runUpdated.id)).toEqual([B.run1]);
    expect(bProgress.results.map((r) => r.data?.backfillProgress.id)).toEqual([B.backfill]);
    expect(aAll.results.map((r) => r.data?.runUpdated.id)).toEqual([A.run1, A.run2]);
    expect(JSON.stringify([bAll.results, bProgress.results])).not.toContain(A.export);
  });
});
