import { inject, injectable } from 'tsyringe';
import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { ApiContext } from './context';
import { CreateNotificationChannelInput, UpdateNotificationChannelInput } from './notification.input';
import { NotificationService } from './notification.service';
import { CreatedNotificationChannel, NotificationChannel, NotificationChannelConnection, NotificationDelivery, NotificationDeliveryConnection } from './notification.type';
import { connectionFromList, PageArgs } from './pagination';

@injectable()
@Resolver()
export class NotificationResolver {
  constructor(@inject(NotificationService) private readonly notifications: NotificationService) {}

  @Query(() => NotificationChannelConnection, { description: "The team's channels, oldest first; with batchExportId, those that apply to that export (team defaults and its own)." })
  async notificationChannels(
    @Ctx() ctx: ApiContext,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('batchExportId', () => ID, { nullable: true, description: 'Only the channels that apply to this export.' }) batchExportId?: string | null,
  ) {
    const all = await this.notifications.channels(ctx.teamId, batchExportId);
    return connectionFromList(all, page, (c) => ({ sortValue: c.createdAt.toISOString(), id: c.id }));
  }

  @Query(() => NotificationDeliveryConnection, { description: 'Messages sent or to send, newest first.' })
  notificationDeliveries(
    @Ctx() ctx: ApiContext,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('channelId', () => ID, { nullable: true, description: 'Only the messages of this channel.' }) channelId?: string | null,
  ) {
    return this.notifications.deliveryPage(ctx.teamId, { channelId, ...page });
  }

  @Authorized('write')
  @Mutation(() => CreatedNotificationChannel, { description: 'A WEBHOOK channel gets a signing secret, returned only here.' })
  async createNotificationChannel(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => CreateNotificationChannelInput, { description: 'The new channel.' }) input: CreateNotificationChannelInput,
  ) {
    return this.notifications.create(ctx.teamId, input);
  }

  @Authorized('write')
  @Mutation(() => NotificationChannel, { description: 'Omitted fields keep their values; secrets are kept unless given.' })
  updateNotificationChannel(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => UpdateNotificationChannelInput, { description: 'The channel and its changes.' }) input: UpdateNotificationChannelInput,
  ) {
    return this.notifications.update(ctx.teamId, input.id, input);
  }

  @Authorized('write')
  @Mutation(() => NotificationChannel, { description: 'Deletes the channel.' })
  deleteNotificationChannel(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The channel to delete.' }) id: string) {
    return this.notifications.remove(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => CreatedNotificationChannel, { description: 'WEBHOOK only: a new signing secret, returned only here; the old one stops working.' })
  rotateNotificationChannelSecret(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The WEBHOOK channel.' }) id: string) {
    return this.notifications.rotateSecret(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => NotificationDelivery, { description: 'Sends a test message now and reports the outcome (status, lastError).' })
  sendTestNotification(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The channel to test.' }) id: string) {
    return this.notifications.sendTest(ctx.teamId, id);
  }
}
