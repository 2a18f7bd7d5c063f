/**
 * Sending one message over one channel: a signed JSON webhook, a Slack incoming webhook (text + blocks), or an
 * email over SMTP. The network policy (OUTPORT_DESTINATION_NETWORKS) is checked here, at send time, as well as when
 * the channel is saved: a name may resolve elsewhere by now. Redirects are not followed, so a receiver cannot send
 * the request on to a host the policy refuses.
 */
import nodemailer from 'nodemailer';
import type { NetworkPolicy } from '../plugins/network-policy';
import type { NotificationChannelEntity } from '../store/entities';
import { describeEvent, eventTitle, type NotificationEvent } from './events';
import { SIGNATURE_HEADER, signPayload } from './signing';

export interface ChannelSecrets {
  signingSecret?: string;
  slackUrl?: string;
  smtpPassword?: string;
}

export interface OutgoingMessage {
  notificationId: string;
  event: NotificationEvent & { summaryOf?: string; windowStart?: string; windowEnd?: string };
  /** For a summary: how many more events the rate limit held back in the window. */
  suppressedCount?: number;
}

/** A failure that retrying will not fix (a 4xx other than 408/429, a refused address, a redirect). */
export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
}

export const SEND_TIMEOUT_MS = 10_000;

export function messageText(ch: Pick<NotificationChannelEntity, 'slowRunSeconds' | 'staleIntervals' | 'rateLimitSeconds'>, msg: OutgoingMessage): string {
  const e = msg.event;
  if (e.summaryOf) {
    const n = msg.suppressedCount ?? 0;
    return (
      `Outport: ${n} more "${eventTitle(e.event)}" notice${n === 1 ? '' : 's'} for export "${e.batchExportName ?? e.batchExportId}" ` +
      `between ${e.windowStart} and ${e.windowEnd} (at most one message per ${Math.round(ch.rateLimitSeconds / 60)} min). Latest: ${describeEvent(e, ch).replace(/^Outport: /, '')}`
    );
  }
  return describeEvent(e, ch);
}

export async function sendOverChannel(
  ch: NotificationChannelEntity,
  secrets: ChannelSecrets,
  msg: OutgoingMessage,
  network: NetworkPolicy,
  now: Date = new Date(),
): Promise<string> {
  const text = messageText(ch, msg);
  const { summaryOf: _s, occurrence: _o, ...fields } = msg.event;
  const structured = { id: msg.notificationId, ...fields, summary: msg.event.summaryOf ? { suppressedCount: msg.suppressedCount ?? 0, windowStart: msg.event.windowStart, windowEnd: msg.event.windowEnd } : undefined };
  if (ch.kind === 'webhook') {
    const body = JSON.stringify({ text, ...structured });
    if (!secrets.signingSecret) throw new PermanentDeliveryError('the channel has no signing secret: rotate it');
    const signature = signPayload(secrets.signingSecret, body, Math.floor(now.getTime() / 1000));
    return postJson(String(ch.config.url), body, { [SIGNATURE_HEADER]: signature, 'X-Outport-Event': msg.event.event, 'X-Outport-Delivery': msg.notificationId }, network);
  }
  if (ch.kind === 'slack') {
    if (!secrets.slackUrl) throw new PermanentDeliveryError('the channel has no Slack URL: set it again');
    const exportLine = msg.event.batchExportId ? `export \`${msg.event.batchExportName ?? msg.event.batchExportId}\` · ` : '';
    const body = JSON.stringify({
      text,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: eventTitle(msg.event.event) } },
        { type: 'section', text: { type: 'mrkdwn', text: text.replace(/^Outport: /, '') } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `${exportLine}${msg.event.event} · ${msg.event.at}` }] },
      ],
    });
    return postJson(secrets.slackUrl, body, {}, network);
  }
  return sendEmail(ch, secrets, text, structured, network);
}

async function postJson(url: string, body: string, headers: Record<string, string>, network: NetworkPolicy): Promise<string> {
  try {
    await network.checkHost(new URL(url).hostname);
  } catch (err) {
    throw new PermanentDeliveryError((err as Error).message);
  }
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'Outport-Notifications', ...headers },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
  });
  const answer = (await res.text().catch(() => '')).slice(0, 300);
  if (res.status >= 300 && res.status < 400) {
    throw new PermanentDeliveryError(`${url} answered ${res.status} redirecting to ${res.headers.get('location') ?? '(no location)'}; redirects are not followed: set the channel to the final URL`);
  }
  if (res.ok) return `HTTP ${res.status}`;
  const message = `${url} answered HTTP ${res.status}${answer ? `: ${answer}` : ''}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentDeliveryError(message);
  throw new Error(message);
}

async function sendEmail(ch: NotificationChannelEntity, secrets: ChannelSecrets, text: string, structured: Record<string, unknown>, network: NetworkPolicy): Promise<string> {
  const c = ch.config as { smtpHost: string; smtpPort: number; smtpSecure: boolean; smtpUser?: string | null; from: string; to: string[] };
  try {
    await network.checkHost(c.smtpHost);
  } catch (err) {
    throw new PermanentDeliveryError((err as Error).message);
  }
  const transport = nodemailer.createTransport({
    host: c.smtpHost,
    port: c.smtpPort,
    secure: c.smtpSecure,
    auth: c.smtpUser ? { user: c.smtpUser, pass: secrets.smtpPassword ?? '' } : undefined,
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
  try {
    const info = await transport.sendMail({
      from: c.from,
      to: c.to,
      subject: `[Outport] ${eventTitle(String(structured.event))}${structured.batchExportName ? `: ${structured.batchExportName}` : ''}`,
      text: `${text}\n\n${JSON.stringify(structured, null, 2)}\n`,
      headers: { 'X-Outport-Event': String(structured.event), 'X-Outport-Delivery': String(structured.id) },
    });
    return `SMTP ${info.response ?? 'accepted'}`;
  } catch (err) {
    const e = err as Error & { responseCode?: number; code?: string };
    // 5xx SMTP replies (bad recipient, auth refused) are permanent; connection trouble and 4xx are worth retrying.
    if (e.code === 'EAUTH') throw new PermanentDeliveryError(`SMTP ${c.smtpHost}:${c.smtpPort} refused the user name or password: ${e.message}`);
    if (e.responseCode && e.responseCode >= 500) throw new PermanentDeliveryError(`SMTP ${c.smtpHost}:${c.smtpPort}: ${e.message}`);
    throw new Error(`SMTP ${c.smtpHost}:${c.smtpPort}: ${e.message}`);
  } finally {
    transport.close();
  }
}
