/**
 * The durable outbox. An event becomes, for each channel that wants it, a row in `notifications` and a
 * graphile-worker job `deliver_notification` that any worker process delivers with retries.
 *
 * Rate limit: the row's key is `notify:<channel>:<event>:<export>:<window>`, the window being the channel's
 * `rate_limit_seconds` (default 15 min). The first event of a window is sent at once; later ones in the same window
 * only count (`suppressed_count`), and one summary message ("9 more ...") goes out when the window closes. So a
 * burst of failures sends one message, then one summary.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { NotificationChannelEntity } from '../store/entities';
import { crossesThreshold, type NotificationEvent } from './events';

export const DELIVER_NOTIFICATION_TASK = 'deliver_notification';
/** graphile-worker's backoff between attempts is exp(attempt) seconds: 12 attempts span about 2.5 days. */
export const DELIVERY_MAX_ATTEMPTS = 12;

type ChannelRow = Pick<NotificationChannelEntity, 'id' | 'rateLimitSeconds' | 'slowRunSeconds' | 'staleIntervals'>;

/** Queues the event for every enabled channel of the team (team defaults and the export's own) that wants it. */
export async function notify(ds: DataSource, event: NotificationEvent, now: Date = new Date()): Promise<number> {
  if (event.event === 'test') throw new Error('test notifications are sent with sendTestNotification');
  const rows: { id: string; rate_limit_seconds: number; slow_run_seconds: number | null; stale_intervals: number | null }[] = await ds.query(
    `SELECT id, rate_limit_seconds, slow_run_seconds, stale_intervals FROM notification_channels
     WHERE team_id = $1 AND enabled AND $3 = ANY(events) AND (batch_export_id IS NULL OR batch_export_id = $2)`,
    [event.teamId, event.batchExportId, event.event],
  );
  let queued = 0;
  for (const r of rows) {
    const ch: ChannelRow = { id: r.id, rateLimitSeconds: r.rate_limit_seconds, slowRunSeconds: r.slow_run_seconds, staleIntervals: r.stale_intervals };
    if (!crossesThreshold(event, ch)) continue;
    if (await ds.transaction((m) => queueForChannel(m, ch, event, now))) queued++;
  }
  return queued;
}

async function queueForChannel(m: EntityManager, ch: ChannelRow, event: NotificationEvent, now: Date): Promise<boolean> {
  if (event.occurrence) {
    const fresh: unknown[] = await m.query(
      `INSERT INTO notification_occurrences (channel_id, occurrence) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
      [ch.id, event.occurrence],
    );
    if (!fresh.length) return false;
  }
  const windowMs = Math.max(1, ch.rateLimitSeconds) * 1000;
  const window = Math.floor(now.getTime() / windowMs);
  const key = `notify:${ch.id}:${event.event}:${event.batchExportId ?? 'team'}:${window}`;
  const [row] = await m.query(
    `INSERT INTO notifications (team_id, channel_id, batch_export_id, event, dedupe_key, payload)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (dedupe_key) DO UPDATE SET suppressed_count = notifications.suppressed_count + 1
     RETURNING id, suppressed_count, (xmax = 0) AS inserted`,
    [event.teamId, ch.id, event.batchExportId, event.event, key, JSON.stringify(event)],
  );
  if (row.inserted) {
    await addDeliveryJob(m, row.id, key, null);
    return true;
  }
  if (row.suppressed_count === 1) {
    const windowEnd = new Date((window + 1) * windowMs);
    const summary = { ...event, summaryOf: key, windowStart: new Date(window * windowMs).toISOString(), windowEnd: windowEnd.toISOString() };
    const [s] = await m.query(
      `INSERT INTO notifications (team_id, channel_id, batch_export_id, event, dedupe_key, payload) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [event.teamId, ch.id, event.batchExportId, event.event, `${key}:summary`, JSON.stringify(summary)],
    );
    if (s) await addDeliveryJob(m, s.id, `${key}:summary`, windowEnd);
  }
  return false;
}

async function addDeliveryJob(m: EntityManager, notificationId: string, key: string, runAt: Date | null): Promise<void> {
  await m.query(
    `SELECT graphile_worker.add_job($1, json_build_object('notificationId', $2::text), run_at => $3, max_attempts => $4, job_key => $5, job_key_mode => 'preserve_run_at')`,
    [DELIVER_NOTIFICATION_TASK, notificationId, runAt, DELIVERY_MAX_ATTEMPTS, key],
  );
}
