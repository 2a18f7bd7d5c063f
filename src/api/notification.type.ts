import { Field, ID, Int, ObjectType } from 'type-graphql';
import { NotificationChannelKindEnum, NotificationEventEnum, NotificationStatusEnum } from './enums';
import { ConnectionType } from './pagination';

// Defined with the API's other enums; re-exported for the modules that import them from here.
export { NotificationChannelKindEnum, NotificationEventEnum, NotificationStatusEnum } from './enums';

@ObjectType({ description: 'SMTP settings; the password is never returned.' })
export class EmailSettings {
  @Field({ description: 'The SMTP server host name.' })
  smtpHost!: string;

  @Field(() => Int, { description: 'The SMTP port.' })
  smtpPort!: number;

  @Field({ description: 'true: TLS from the first byte (port 465). false: STARTTLS when the server offers it.' })
  smtpSecure!: boolean;

  @Field(() => String, { nullable: true, description: 'The SMTP user name; null: no authentication.' })
  smtpUser!: string | null;

  @Field({ description: 'The sender address.' })
  from!: string;

  @Field(() => [String], { description: 'Recipient addresses.' })
  to!: string[];
}

@ObjectType({ description: 'Where notifications go. Secrets (signing secret, Slack URL, SMTP password) are never returned.' })
export class NotificationChannel {
  @Field(() => ID, { description: 'The channel id.' })
  id!: string;

  @Field({ description: 'The name given on create or update.' })
  name!: string;

  @Field(() => NotificationChannelKindEnum, { description: 'Where messages go.' })
  kind!: NotificationChannelKindEnum;

  @Field(() => ID, { nullable: true, description: 'Null: a team default, for every export. Otherwise only this export.' })
  batchExportId!: string | null;

  @Field(() => [NotificationEventEnum], { description: 'Which events send a message.' })
  events!: NotificationEventEnum[];

  @Field(() => String, { nullable: true, description: 'WEBHOOK: the URL. SLACK: only its host (the URL is a secret).' })
  url!: string | null;

  @Field(() => EmailSettings, { nullable: true, description: 'EMAIL: the SMTP settings (without the password).' })
  email!: EmailSettings | null;

  @Field(() => Int, { nullable: true, description: 'RUN_SLOW: a run taking longer than this many seconds.' })
  slowRunSeconds!: number | null;

  @Field(() => Int, { nullable: true, description: 'EXPORT_STALE: data older than this many of the export\'s intervals.' })
  staleIntervals!: number | null;

  @Field(() => Int, { description: 'At most one message per export and event kind in this many seconds; the rest are summed up in one summary.' })
  rateLimitSeconds!: number;

  @Field({ description: 'false: the channel sends nothing.' })
  enabled!: boolean;

  @Field(() => Date, { description: 'When the channel was created.' })
  createdAt!: Date;
}

@ObjectType({ description: 'A channel and, once, its signing secret.' })
export class CreatedNotificationChannel {
  @Field(() => NotificationChannel, { description: 'The channel.' })
  channel!: NotificationChannel;

  @Field(() => String, {
    nullable: true,
    description: 'WEBHOOK: the HMAC-SHA256 signing secret. Shown only in this response (and when rotated); store it now.',
  })
  signingSecret!: string | null;
}

@ObjectType({ description: 'One message to one channel.' })
export class NotificationDelivery {
  @Field(() => ID, { description: 'The message id.' })
  id!: string;

  @Field(() => ID, { description: 'The channel it goes to.' })
  channelId!: string;

  @Field(() => ID, { nullable: true, description: 'The export it is about; null for TEST messages.' })
  batchExportId!: string | null;

  @Field(() => NotificationEventEnum, { description: 'What happened.' })
  event!: NotificationEventEnum;

  @Field({ description: 'The message text.' })
  text!: string;

  @Field(() => NotificationStatusEnum, { description: 'Whether it was delivered.' })
  status!: NotificationStatusEnum;

  @Field(() => Int, { description: 'Delivery attempts so far.' })
  attempts!: number;

  @Field(() => String, { nullable: true, description: 'Why the latest attempt failed; null when none did.' })
  lastError!: string | null;

  @Field(() => Int, { description: 'Events of the same kind the rate limit held back after this one (sent as one summary).' })
  suppressedCount!: number;

  @Field(() => Date, { description: 'When the event happened.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the channel accepted it; null until then.' })
  deliveredAt!: Date | null;
}

@ObjectType({ description: 'A page of notification channels.' })
export class NotificationChannelConnection extends ConnectionType('NotificationChannel', NotificationChannel, { itemsDescription: 'notification channels' }) {}

@ObjectType({ description: 'A page of notification messages.' })
export class NotificationDeliveryConnection extends ConnectionType('NotificationDelivery', NotificationDelivery, { itemsDescription: 'notification messages' }) {}
