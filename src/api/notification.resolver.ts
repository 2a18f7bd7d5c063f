import { inject, injectable } from 'tsyringe';
import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { ApiContext } from './context';
import { NotificationChannelInput } from './notification.input';
import { NotificationService } from './notification.service';
import { CreatedNotificationChannel, NotificationChannel, NotificationDelivery } from './notification.type';

@injectable()
@Resolver()
export class NotificationResolver {
  constructor(@inject(NotificationService) private readonly notifications: NotificationService) {}

  @Query(() => [NotificationChannel], { description: "The team's channels; with batchExportId, those that apply to that export (team defaults and its own)." })
  notificationChannels(@Ctx() ctx: ApiContext, @Arg('batchExportId', () => ID, { nullable: true }) batchExportId?: string | null) {
    return this.notifications.channels(ctx.teamId, batchExportId);
  }

  @Query(() => [NotificationDelivery], { description: 'Recent messages, newest first (default 50, at most 200).' })
  notificationDeliveries(
    @Ctx() ctx: ApiContext,
    @Arg('channelId', () => ID, { nullable: true }) channelId?: string | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
  ) {
    return this.notifications.deliveries(ctx.teamId, { channelId, first });
  }

  @Authorized('write')
  @Mutation(() => CreatedNotificationChannel, { description: 'A WEBHOOK channel gets a signing secret, returned only here.' })
  async createNotificationChannel(@Ctx() ctx: ApiContext, @Arg('input', () => NotificationChannelInput) input: NotificationChannelInput) {
    return this.notifications.create(ctx.teamId, input);
  }

  @Authorized('write')
  @Mutation(() => NotificationChannel, { description: 'Omitted fields keep their values; secrets are kept unless given.' })
  updateNotificationChannel(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string, @Arg('input', () => NotificationChannelInput) input: NotificationChannelInput) {
    return this.notifications.update(ctx.teamId, id, input);
  }

  @Authorized('write')
  @Mutation(() => NotificationChannel)
  deleteNotificationChannel(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.notifications.remove(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => CreatedNotificationChannel, { description: 'WEBHOOK only: a new signing secret, returned only here; the old one stops working.' })
  rotateNotificationChannelSecret(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.notifications.rotateSecret(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => NotificationDelivery, { description: 'Sends a test message now and reports the outcome (status, lastError).' })
  sendTestNotification(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.notifications.sendTest(ctx.teamId, id);
  }
}
