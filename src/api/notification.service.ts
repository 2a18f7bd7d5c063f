/** Notification channels of the caller's team: create, update, delete, rotate the signing secret, send a test. */
import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { messageText, type ChannelSecrets } from '../notifications/channels';
import { deliverNotification } from '../notifications/deliver';
import type { NotificationEvent } from '../notifications/events';
import { generateSigningSecret } from '../notifications/signing';
import { parseNetworkPolicy, type NetworkPolicy } from '../plugins/network-policy';
import { NotificationChannelEntity } from '../store/entities';
import type { SecretBox } from '../store/secrets';
import { CONFIG, DATA_SOURCE, LOGGER, SECRET_BOX } from '../tokens';
import { badInput, notFound } from './errors';
import { isUuid, loadExport } from './lookup';
import type { NotificationChannelInput } from './notification.input';
import { isoMicros, keysetPage, toConnection, type Connection, type PageArgs } from './pagination';
import { NotificationEventEnum, type CreatedNotificationChannel, type NotificationChannel, type NotificationChannelKindEnum, type NotificationDelivery } from './notification.type';

/** A channel id filter for SQL: a malformed id matches no channel (rather than every one). */
const channelFilter = (channelId: string | null | undefined): string | null =>
  channelId === undefined || channelId === null ? null : isUuid(channelId) ? channelId : '00000000-0000-0000-0000-000000000000';

const DEFAULT_EVENTS = [NotificationEventEnum.RUN_FAILED, NotificationEventEnum.EXPORT_AUTO_PAUSED, NotificationEventEnum.EXPORT_RECOVERED];

@injectable()
export class NotificationService {
  private readonly network: NetworkPolicy;

  constructor(
    @inject(DATA_SOURCE) private readonly ds: DataSource,
    @inject(SECRET_BOX) private readonly box: SecretBox,
    @inject(LOGGER) private readonly log: Logger,
    @inject(CONFIG) config: Pick<Config, 'OUTPORT_DESTINATION_NETWORKS'>,
  ) {
    this.network = parseNetworkPolicy(config.OUTPORT_DESTINATION_NETWORKS);
  }

  private get repo() {
    return this.ds.getRepository(NotificationChannelEntity);
  }

  async channels(teamId: number, batchExportId?: string | null): Promise<NotificationChannel[]> {
    const qb = this.repo.createQueryBuilder('c').where('c.team_id = :teamId', { teamId }).orderBy('c.created_at', 'ASC').addOrderBy('c.id', 'ASC');
    if (batchExportId) {
      if (!isUuid(batchExportId)) throw notFound('Batch export', batchExportId);
      qb.andWhere('(c.batch_export_id IS NULL OR c.batch_export_id = :batchExportId)', { batchExportId });
    }
    return (await qb.getMany()).map((c) => this.view(c));
  }

  async channel(teamId: number, id: string): Promise<NotificationChannelEntity> {
    const found = isUuid(id) ? await this.repo.findOneBy({ id, teamId }) : null;
    if (!found) throw notFound('Notification channel', id);
    return found;
  }

  async create(teamId: number, input: NotificationChannelInput): Promise<CreatedNotificationChannel> {
    if (!input.name?.trim()) throw badInput('input.name', 'give the channel a name');
    if (!input.kind) throw badInput('input.kind', 'choose WEBHOOK, SLACK or EMAIL');
    const ch = this.repo.create({ teamId, kind: input.kind, name: input.name.trim(), config: {}, events: DEFAULT_EVENTS, rateLimitSeconds: 900, enabled: true });
    if (input.batchExportId) ch.batchExportId = (await loadExport(this.ds.manager, teamId, input.batchExportId)).id;
    const secrets: ChannelSecrets = {};
    let signingSecret: string | null = null;
    if (ch.kind === 'webhook') secrets.signingSecret = signingSecret = generateSigningSecret();
    await this.apply(ch, secrets, input, true);
    ch.secretsEncrypted = this.box.encrypt(secrets as Record<string, unknown>);
    const saved = await this.repo.save(ch);
    return { channel: this.view(saved), signingSecret };
  }

  async update(teamId: number, id: string, input: NotificationChannelInput): Promise<NotificationChannel> {
    const ch = await this.channel(teamId, id);
    if (input.kind && input.kind !== ch.kind) throw badInput('input.kind', 'a channel cannot change kind: create a new channel');
    if (input.batchExportId !== undefined && input.batchExportId !== ch.batchExportId) {
      throw badInput('input.batchExportId', 'a channel cannot move to another export: create a new channel');
    }
    if (input.name !== undefined) {
      if (!input.name?.trim()) throw badInput('input.name', 'must not be empty');
      ch.name = input.name.trim();
    }
    const secrets = this.box.decrypt(ch.secretsEncrypted) as ChannelSecrets;
    await this.apply(ch, secrets, input, false);
    ch.secretsEncrypted = this.box.encrypt(secrets as Record<string, unknown>);
    return this.view(await this.repo.save(ch));
  }

  async remove(teamId: number, id: string): Promise<NotificationChannel> {
    const ch = await this.channel(teamId, id);
    await this.repo.delete({ id: ch.id, teamId });
    return this.view(ch);
  }

  async rotateSecret(teamId: number, id: string): Promise<CreatedNotificationChannel> {
    const ch = await this.channel(teamId, id);
    if (ch.kind !== 'webhook') throw badInput('id', 'only WEBHOOK channels have a signing secret');
    const secrets = this.box.decrypt(ch.secretsEncrypted) as ChannelSecrets;
    secrets.signingSecret = generateSigningSecret();
    ch.secretsEncrypted = this.box.encrypt(secrets as Record<string, unknown>);
    return { channel: this.view(await this.repo.save(ch)), signingSecret: secrets.signingSecret };
  }

  /** Sends at once, from this process, one attempt, and reports how it went (also recorded as a delivery). */
  async sendTest(teamId: number, id: string): Promise<NotificationDelivery> {
    const ch = await this.channel(teamId, id);
    const event: NotificationEvent = { event: 'test', teamId, batchExportId: ch.batchExportId, batchExportName: null, at: new Date().toISOString() };
    const [row] = await this.ds.query(
      `INSERT INTO notifications (team_id, channel_id, batch_export_id, event, dedupe_key, payload) VALUES ($1, $2, $3, 'test', $4, $5) RETURNING id`,
      [teamId, ch.id, ch.batchExportId, `notify:${ch.id}:test:${randomUUID()}`, JSON.stringify(event)],
    );
    // A disabled channel still takes a test: that is how one checks it before enabling it.
    const sendable = ch.enabled ? ch : { ...ch, enabled: true };
    await deliverNotification({ ds: this.ds, log: this.log, secrets: this.box, network: this.network, channelOverride: sendable }, row.id, true);
    return (await this.deliveries(teamId, { id: row.id }))[0];
  }

  /** A page of deliveries, newest first (keyset on created_at, id). */
  async deliveryPage(teamId: number, args: PageArgs & { channelId?: string | null }): Promise<Connection<NotificationDelivery>> {
    const page = keysetPage(args);
    const rows = await this.deliveries(teamId, { channelId: args.channelId, limit: page.limit + 1, from: page.cursor, backward: page.backward });
    const channel = channelFilter(args.channelId);
    const count = async () =>
      Number((await this.ds.query(`SELECT count(*) AS n FROM notifications WHERE team_id = $1 AND ($2::uuid IS NULL OR channel_id = $2)`, [teamId, channel]))[0].n);
    return toConnection(rows.map((d) => ({ node: d, id: d.id, sortValue: d.sortValue })), page, count);
  }

  async deliveries(
    teamId: number,
    filter: { id?: string; channelId?: string | null; limit?: number; from?: { sortValue: string; id: string }; backward?: boolean },
  ): Promise<(NotificationDelivery & { sortValue: string })[]> {
    const rows = await this.ds.query(
      `SELECT n.*, c.slow_run_seconds, c.stale_intervals, c.rate_limit_seconds, summarized.suppressed_count AS summarized_count,
              ${isoMicros('n.created_at')} AS sort_value
       FROM notifications n JOIN notification_channels c ON c.id = n.channel_id
       LEFT JOIN notifications summarized ON summarized.dedupe_key = n.payload->>'summaryOf'
       WHERE n.team_id = $1 AND ($2::uuid IS NULL OR n.id = $2) AND ($3::uuid IS NULL OR n.channel_id = $3)
         AND ($5::timestamptz IS NULL OR (n.created_at, n.id) ${filter.backward ? '>' : '<'} ($5::timestamptz, $6::uuid))
       ORDER BY n.created_at ${filter.backward ? 'ASC' : 'DESC'}, n.id ${filter.backward ? 'ASC' : 'DESC'} LIMIT $4`,
      [teamId, filter.id ?? null, channelFilter(filter.channelId), filter.limit ?? 1, filter.from?.sortValue ?? null, filter.from?.id ?? null],
    );
    return rows.map((r: Record<string, any>) => ({
      id: r.id,
      channelId: r.channel_id,
      batchExportId: r.batch_export_id,
      event: r.event,
      text: messageText({ slowRunSeconds: r.slow_run_seconds, staleIntervals: r.stale_intervals, rateLimitSeconds: r.rate_limit_seconds }, { notificationId: r.id, event: r.payload, suppressedCount: r.summarized_count ?? 0 }),
      status: r.status,
      attempts: r.attempts,
      lastError: r.last_error,
      suppressedCount: r.suppressed_count,
      createdAt: r.created_at,
      deliveredAt: r.delivered_at,
      sortValue: r.sort_value,
    }));
  }

  private async apply(ch: NotificationChannelEntity, secrets: ChannelSecrets, input: NotificationChannelInput, creating: boolean): Promise<void> {
    if (input.events != null) {
      if (input.events.includes(NotificationEventEnum.TEST)) throw badInput('input.events', 'TEST is not an event to subscribe to: use sendTestNotification');
      ch.events = [...new Set(input.events)];
    }
    if (input.slowRunSeconds !== undefined) ch.slowRunSeconds = input.slowRunSeconds;
    if (input.staleIntervals !== undefined) ch.staleIntervals = input.staleIntervals;
    if (input.rateLimitSeconds != null) ch.rateLimitSeconds = input.rateLimitSeconds;
    if (input.enabled != null) ch.enabled = input.enabled;
    if (ch.events.includes('run_slow') && ch.slowRunSeconds == null) throw badInput('input.slowRunSeconds', 'RUN_SLOW needs a threshold in seconds');
    if (ch.events.includes('export_stale') && ch.staleIntervals == null) throw badInput('input.staleIntervals', 'EXPORT_STALE needs a number of intervals');

    if (ch.kind === 'email') {
      if (input.url) throw badInput('input.url', 'EMAIL channels take input.email, not a URL');
      if (input.email) {
        const e = input.email;
        const host = e.smtpHost.trim();
        await this.checkHost('input.email.smtpHost', host);
        const to = e.to.map((t) => t.trim()).filter(Boolean);
        for (const [i, addr] of to.entries()) if (!/^[^\s@]+@[^\s@]+$/.test(addr)) throw badInput(`input.email.to.${i}`, `"${addr}" is not an email address`);
        if (!to.length) throw badInput('input.email.to', 'give at least one recipient');
        if (!/@/.test(e.from)) throw badInput('input.email.from', 'must hold an email address');
        ch.config = { smtpHost: host, smtpPort: e.smtpPort, smtpSecure: e.smtpSecure, smtpUser: e.smtpUser?.trim() || null, from: e.from.trim(), to };
        if (e.smtpPassword !== undefined) secrets.smtpPassword = e.smtpPassword ?? undefined;
      } else if (creating) throw badInput('input.email', 'EMAIL channels need SMTP settings');
      return;
    }
    if (input.email) throw badInput('input.email', `${ch.kind.toUpperCase()} channels take input.url, not SMTP settings`);
    if (input.url != null) {
      const url = await this.checkUrl('input.url', input.url);
      if (ch.kind === 'slack') {
        secrets.slackUrl = url;
        ch.config = { urlHost: new URL(url).host };
      } else ch.config = { url };
    } else if (creating) throw badInput('input.url', `${ch.kind.toUpperCase()} channels need a URL`);
  }

  private async checkUrl(field: string, value: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      throw badInput(field, 'must be an absolute http(s) URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badInput(field, `must use http or https, not ${url.protocol}`);
    await this.checkHost(field, url.hostname);
    return url.toString();
  }

  private async checkHost(field: string, host: string): Promise<void> {
    try {
      await this.network.checkHost(host);
    } catch (err) {
      throw badInput(field, (err as Error).message);
    }
  }

  view(c: NotificationChannelEntity): NotificationChannel {
    const cfg = c.config as Record<string, any>;
    return {
      id: c.id,
      name: c.name,
      kind: c.kind as NotificationChannelKindEnum,
      batchExportId: c.batchExportId,
      events: c.events as NotificationEventEnum[],
      url: c.kind === 'webhook' ? cfg.url : c.kind === 'slack' ? `https://${cfg.urlHost}/…` : null,
      email: c.kind === 'email' ? { smtpHost: cfg.smtpHost, smtpPort: cfg.smtpPort, smtpSecure: cfg.smtpSecure, smtpUser: cfg.smtpUser ?? null, from: cfg.from, to: cfg.to } : null,
      slowRunSeconds: c.slowRunSeconds,
      staleIntervals: c.staleIntervals,
      rateLimitSeconds: c.rateLimitSeconds,
      enabled: c.enabled,
      createdAt: c.createdAt,
    };
  }
}
