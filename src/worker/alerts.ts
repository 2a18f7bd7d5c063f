/**
 * After a run fails: pause the export when it fails too often, and tell the team's webhook. The payload has a
 * `text` field, so a Slack incoming webhook shows it as is, plus structured fields for other receivers.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { RunEntity } from '../store/entities';
import { exportLog } from './run-log';

export interface AutoPausePolicy {
  failures: number;
  window: number;
}

/** Pauses the export when `failures` of its last `window` finished runs failed. Returns the reason when it paused. */
export async function autoPauseIfFailing(ds: DataSource, run: RunEntity, policy: AutoPausePolicy): Promise<string | undefined> {
  if (policy.failures <= 0) return undefined;
  const [{ failed }] = await ds.query(
    `SELECT count(*) FILTER (WHERE status IN ('Failed', 'TimedOut'))::int AS failed FROM (
       SELECT status FROM runs WHERE batch_export_id = $1 AND finished_at IS NOT NULL AND status <> 'Cancelled'
       ORDER BY finished_at DESC LIMIT $2) last`,
    [run.batchExportId, policy.window],
  );
  if (failed < policy.failures) return undefined;
  const reason = `Paused automatically: ${failed} of the last ${policy.window} runs failed. Fix the destination, then unpause (optionally backfilling the paused gap).`;
  const res = await ds.query(
    `UPDATE batch_exports SET paused = true, paused_at = now(), paused_reason = $2, updated_at = now() WHERE id = $1 AND NOT paused AND deleted_at IS NULL`,
    [run.batchExportId, reason],
  );
  if ((res[1] ?? 0) === 0) return undefined;
  await exportLog(ds, run.teamId, run.batchExportId, 'WARN', reason);
  return reason;
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

export async function notifyWebhook(ds: DataSource, log: Logger, notice: FailureNotice): Promise<void> {
  const [team] = await ds.query(`SELECT webhook_url FROM teams WHERE id = $1`, [notice.teamId]);
  const url: string | null = team?.webhook_url ?? null;
  if (!url) return;
  const text =
    notice.event === 'run_failed'
      ? `Outport: export "${notice.batchExportName}" failed for ${notice.intervalStart} – ${notice.intervalEnd}: ${notice.error ?? 'unknown error'}`
      : `Outport: export "${notice.batchExportName}" was paused. ${notice.reason ?? ''}`;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text, ...notice }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) log.warn({ status: res.status, teamId: notice.teamId }, 'webhook answered with an error status');
  } catch (err) {
    log.warn({ err: String(err), teamId: notice.teamId }, 'webhook delivery failed');
  }
}
