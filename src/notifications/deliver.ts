/**
 * Delivers one outbox row (see outbox.ts). Run by the worker role as the `deliver_notification` task: a thrown
 * error makes graphile-worker retry with its exponential backoff (exp(attempt) seconds) up to
 * DELIVERY_MAX_ATTEMPTS; a permanent failure is recorded and not retried. The row records every attempt.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { NetworkPolicy } from '../plugins/network-policy';
import { NotificationChannelEntity } from '../store/entities';
import type { SecretBox } from '../store/secrets';
import { PermanentDeliveryError, sendOverChannel, type ChannelSecrets, type OutgoingMessage } from './channels';

export interface DeliveryDeps {
  ds: DataSource;
  log: Logger;
  secrets: SecretBox;
  network: NetworkPolicy;
  /** The channel to send over instead of the stored one (a test of a disabled channel). */
  channelOverride?: NotificationChannelEntity;
}

export interface DeliveryResult {
  status: 'Delivered' | 'Pending' | 'Failed';
  detail: string;
}

/** `finalAttempt`: record a retryable failure as Failed (the job will not run again). */
export async function deliverNotification(deps: DeliveryDeps, notificationId: string, finalAttempt: boolean): Promise<DeliveryResult> {
  const { ds } = deps;
  const [row] = await ds.query(`SELECT * FROM notifications WHERE id = $1`, [notificationId]);
  if (!row || row.status !== 'Pending') return { status: row?.status ?? 'Failed', detail: 'already handled' };
  const channel = deps.channelOverride ?? (await ds.getRepository(NotificationChannelEntity).findOneBy({ id: row.channel_id }));
  const record = async (status: DeliveryResult['status'], error: string | null) => {
    await ds.query(
      `UPDATE notifications SET status = $2, attempts = attempts + 1, last_error = $3, delivered_at = CASE WHEN $2 = 'Delivered' THEN now() END WHERE id = $1`,
      [notificationId, status, error],
    );
  };
  if (!channel || !channel.enabled) {
    await record('Failed', channel ? 'the channel was disabled before delivery' : 'the channel was deleted before delivery');
    return { status: 'Failed', detail: 'channel gone' };
  }
  const msg: OutgoingMessage = { notificationId, event: row.payload };
  if (row.payload.summaryOf) {
    const [first] = await ds.query(`SELECT suppressed_count FROM notifications WHERE dedupe_key = $1`, [row.payload.summaryOf]);
    msg.suppressedCount = first?.suppressed_count ?? 0;
  }
  try {
    const secrets = deps.secrets.decrypt(channel.secretsEncrypted) as ChannelSecrets;
    const detail = await sendOverChannel(channel, secrets, msg, deps.network);
    await record('Delivered', null);
    return { status: 'Delivered', detail };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const permanent = err instanceof PermanentDeliveryError;
    await record(permanent || finalAttempt ? 'Failed' : 'Pending', message);
    deps.log.warn({ notificationId, channelId: channel.id, event: row.event, err: message, permanent }, 'notification delivery failed');
    if (permanent || finalAttempt) return { status: 'Failed', detail: message };
    throw err;
  }
}
