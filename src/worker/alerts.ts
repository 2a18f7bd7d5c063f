/**
 * After a run fails: pause the export when it fails too often (cancelling its backfills), and tell the team's
 * webhook once per change of the export's state. The payload has a `text` field, so a Slack incoming webhook
 * shows it as is, plus structured fields for other receivers.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logger';
import type { RunEntity } from '../store/entities';
import { publishChange } from '../store/event-bus';
import { markExportFailing, notifyOnCompletion } from '../notifications/evaluate';
import { notify } from '../notifications/outbox';
import { parseNetworkPolicy } from '../plugins/network-policy';
import { holdWaitingRuns, WAITING_RUN_STATUSES } from './paused-runs';
import { publishRun } from './run-queue';

export interface AutoPausePolicy {
  failures: number;
  window: number;
}

/**
 * Pauses the export when `failures` of its last `window` finished runs (since it was last unpaused) failed. Returns the reason when it paused.
 * In the same transaction its waiting runs are held (see paused-runs.ts) and its active backfills cancelled, each
 * with a WARN log entry on the export naming the backfill and the reason.
 */
export async function autoPauseIfFailing(ds: DataSource, run: RunEntity, policy: AutoPausePolicy): Promise<string | undefined> {
  if (policy.failures <= 0) return undefined;
  const [{ failed }] = await ds.query(
    // Only runs finished since the export was last unpaused: the failures before it are what the user fixed.
    `SELECT count(*) FILTER (WHERE status IN ('Failed', 'TimedOut'))::int AS failed FROM (
       SELECT r.status FROM runs r JOIN batch_exports e ON e.id = r.batch_export_id
       WHERE r.batch_export_id = $1 AND r.finished_at IS NOT NULL AND r.status <> 'Cancelled'
         AND r.finished_at > coalesce(e.unpaused_at, '-infinity')
       ORDER BY r.finished_at DESC LIMIT $2) last`,
    [run.batchExportId, policy.window],
  );
  if (failed < policy.failures) return undefined;
  const reason = `Paused automatically: ${failed} of the last ${policy.window} runs failed. Fix the destination, then unpause (optionally backfilling the paused gap).`;
  const cancelled = await ds.transaction(async (m) => {
    const res = await m.query(
      `UPDATE batch_exports SET paused = true, paused_at = now(), paused_reason = $2, updated_at = now() WHERE id = $1 AND NOT paused AND deleted_at IS NULL`,
      [run.batchExportId, reason],
    );
    if ((res[1] ?? 0) === 0) return undefined;
    await m.query(`INSERT INTO log_entries (team_id, batch_export_id, level, message) VALUES ($1, $2, 'WARN', $3)`, [run.teamId, run.batchExportId, reason]);
    const touched = await cancelBackfills(m, run, reason);
    await holdWaitingRuns(m, run.batchExportId);
    return touched;
  });
  if (!cancelled) return undefined;
  if (cancelled.runIds.length) {
    const runs = await ds.getRepository<RunEntity>('RunEntity').createQueryBuilder('r').where('r.id IN (:...ids)', { ids: cancelled.runIds }).getMany();
    for (const r of runs) await publishRun(ds, r);
  }
  for (const backfillId of cancelled.backfillIds) {
    await publishChange(ds, { kind: 'backfill', teamId: run.teamId, batchExportId: run.batchExportId, backfillId, at: new Date().toISOString() });
  }
  return reason;
}

/** An automatic pause cancels the export's active backfills: their remaining runs would fail the same way. */
async function cancelBackfills(m: EntityManager, run: RunEntity, reason: string): Promise<{ backfillIds: string[]; runIds: string[] }> {
  const [backfills] = (await m.query(
    `UPDATE backfills SET status = 'Cancelled', finished_at = now() WHERE batch_export_id = $1 AND status IN ('Starting', 'Running')
     RETURNING id, start_at, end_at`,
    [run.batchExportId],
  )) as [{ id: string; start_at: Date; end_at: Date }[], number];
  const runIds: string[] = [];
  for (const b of backfills) {
    const [queued] = (await m.query(
      `UPDATE runs SET status = 'Cancelled', finished_at = now(), next_attempt_at = NULL, latest_error = $3
       WHERE backfill_id = $1 AND status = ANY($2::text[]) RETURNING id`,
      [b.id, WAITING_RUN_STATUSES, 'Cancelled: the export was paused automatically before this run was attempted.'],
    )) as [{ id: string }[], number];
    await m.query(`SELECT graphile_worker.remove_job('run:' || id) FROM unnest($1::uuid[]) AS id`, [queued.map((q) => q.id)]);
    const [running] = (await m.query(
      `UPDATE runs SET cancel_requested_at = now() WHERE backfill_id = $1 AND status = 'Running' AND cancel_requested_at IS NULL RETURNING id`,
      [b.id],
    )) as [{ id: string }[], number];
    runIds.push(...queued.map((q) => q.id), ...running.map((r) => r.id));
    await m.query(`INSERT INTO log_entries (team_id, batch_export_id, level, message) VALUES ($1, $2, 'WARN', $3)`, [
      run.teamId,
      run.batchExportId,
      `Backfill ${b.id} (${b.start_at.toISOString()} – ${b.end_at.toISOString()}) cancelled: ${queued.length} of its runs had not run yet ` +
        `and were cancelled, ${running.length} running ones asked to stop. ${reason} Then backfill that range again.`,
    ]);
  }
  return { backfillIds: backfills.map((b) => b.id), runIds };
}

/**
 * The notices for a run that ended Failed or TimedOut: at most one per change of the export's state. The failure
 * that pauses the export sends `export_auto_paused` (carrying this run's error) instead of `run_failed`; a run that
 * fails while the export is paused (an attempt that was already running) sends nothing. They go to the team's legacy
 * webhook at once and to the notification channels through the outbox (signed, retried, rate limited).
 */
export async function alertOnFailure(
  ds: DataSource,
  log: Logger,
  run: RunEntity,
  notice: Omit<FailureNotice, 'event'>,
  policy: AutoPausePolicy,
  destinationNetworks = '',
): Promise<void> {
  await markExportFailing(ds, run.batchExportId);
  const reason = await autoPauseIfFailing(ds, run, policy);
  let event: FailureNotice | undefined;
  if (reason) event = { event: 'export_auto_paused', ...notice, reason };
  else {
    const [exp] = await ds.query(`SELECT paused FROM batch_exports WHERE id = $1`, [run.batchExportId]);
    if (exp && !exp.paused) event = { event: 'run_failed', ...notice };
  }
  if (!event) return;
  await notifyWebhook(ds, log, event, destinationNetworks);
  try {
    await notify(ds, { ...event, occurrence: `${event.event}:${run.id}:${run.attempt}`, at: new Date().toISOString() });
  } catch (err) {
    log.error({ err: String(err), runId: run.id }, 'could not queue notifications for a failed run');
  }
}

/** After a run completed: recovery and slow-run notices (see notifications/evaluate.ts). Never fails the run. */
export async function alertOnCompletion(ds: DataSource, log: Logger, run: RunEntity, exportName: string): Promise<void> {
  try {
    await notifyOnCompletion(ds, run, exportName);
  } catch (err) {
    log.error({ err: String(err), runId: run.id }, 'could not queue notifications for a completed run');
  }
}

export interface FailureNotice {
  event: 'run_failed' | 'export_auto_paused';
  teamId: number;
  batchExportId: string;
  batchExportName: string;
  runId: string;
  intervalStart: string;
  intervalEnd: string;
  error: string | null;
  reason?: string;
}

/**
 * The team's legacy webhook (`updateTeam(input: { webhookUrl })`): unsigned, one attempt, every notice. Notification
 * channels are the signed, retried and rate-limited way. The network policy is checked again here (a name may
 * resolve elsewhere than when it was saved) and redirects are not followed.
 */
export async function notifyWebhook(ds: DataSource, log: Logger, notice: FailureNotice, destinationNetworks = ''): Promise<void> {
  const [team] = await ds.query(`SELECT webhook_url FROM teams WHERE id = $1`, [notice.teamId]);
  const url: string | null = team?.webhook_url ?? null;
  if (!url) return;
  const text =
    notice.event === 'run_failed'
      ? `Outport: export "${notice.batchExportName}" failed for ${notice.intervalStart} – ${notice.intervalEnd}: ${notice.error ?? 'unknown error'}`
      : `Outport: export "${notice.batchExportName}" was paused. ${notice.reason ?? ''}`;
  try {
    await parseNetworkPolicy(destinationNetworks).checkHost(new URL(url).hostname);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text, ...notice }),
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) log.warn({ status: res.status, teamId: notice.teamId }, 'webhook answered with an error status (redirects are not followed)');
  } catch (err) {
    log.warn({ err: String(err), teamId: notice.teamId }, 'webhook delivery failed');
  }
}
