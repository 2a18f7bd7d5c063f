import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum NotificationChannelKindEnum {
  WEBHOOK = 'webhook',
  SLACK = 'slack',
  EMAIL = 'email',
}
registerEnumType(NotificationChannelKindEnum, {
  name: 'NotificationChannelKind',
  description: 'WEBHOOK: signed JSON POST (X-Outport-Signature). SLACK: a Slack incoming webhook (text + blocks). EMAIL: SMTP.',
});

/** Values are the event kinds of src/notifications/events.ts. */
export enum NotificationEventEnum {
  RUN_FAILED = 'run_failed',
  EXPORT_AUTO_PAUSED = 'export_auto_paused',
  EXPORT_RECOVERED = 'export_recovered',
  RUN_SLOW = 'run_slow',
  EXPORT_STALE = 'export_stale',
  TEST = 'test',
}
registerEnumType(NotificationEventEnum, {
  name: 'NotificationEvent',
  description:
    'RUN_FAILED: a run ended Failed or TimedOut. EXPORT_AUTO_PAUSED: failures paused the export. EXPORT_RECOVERED: the first success after failures. ' +
    'RUN_SLOW: a run ran longer than slowRunSeconds. EXPORT_STALE: the last completed interval ended more than staleIntervals intervals ago. TEST: sendTestNotification.',
});

export enum NotificationStatusEnum {
  PENDING = 'Pending',
  DELIVERED = 'Delivered',
  FAILED = 'Failed',
}
registerEnumType(NotificationStatusEnum, { name: 'NotificationStatus', description: 'PENDING: queued or retrying.' });

@ObjectType({ description: 'SMTP settings; the password is never returned.' })
export class EmailSettings {
  @Field()
  smtpHost!: string;

  @Field(() => Int)
  smtpPort!: number;

  @Field({ description: 'true: TLS from the first byte (port 465). false: STARTTLS when the server offers it.' })
  smtpSecure!: boolean;

  @Field(() => String, { nullable: true })
  smtpUser!: string | null;

  @Field()
  from!: string;

  @Field(() => [String])
  to!: string[];
}

@ObjectType({ description: 'Where notifications go. Secrets (signing secret, Slack URL, SMTP password) are never returned.' })
export class NotificationChannel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => NotificationChannelKindEnum)
  kind!: NotificationChannelKindEnum;

  @Field(() => ID, { nullable: true, description: 'Null: a team default, for every export. Otherwise only this export.' })
  batchExportId!: string | null;

  @Field(() => [NotificationEventEnum])
  events!: NotificationEventEnum[];

  @Field(() => String, { nullable: true, description: 'WEBHOOK: the URL. SLACK: only its host (the URL is a secret).' })
  url!: string | null;

  @Field(() => EmailSettings, { nullable: true })
  email!: EmailSettings | null;

  @Field(() => Int, { nullable: true, description: 'RUN_SLOW: a run taking longer than this many seconds.' })
  slowRunSeconds!: number | null;

  @Field(() => Int, { nullable: true, description: 'EXPORT_STALE: data older than this many of the export\'s intervals.' })
  staleIntervals!: number | null;

  @Field(() => Int, { description: 'At most one message per export and event kind in this many seconds; the rest are summed up in one summary.' })
  rateLimitSeconds!: number;

  @Field()
  enabled!: boolean;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class CreatedNotificationChannel {
  @Field(() => NotificationChannel)
  channel!: NotificationChannel;

  @Field(() => String, {
    nullable: true,
    description: 'WEBHOOK: the HMAC-SHA256 signing secret. Shown only in this response (and when rotated); store it now.',
  })
  signingSecret!: string | null;
}

@ObjectType({ description: 'One message to one channel.' })
export class NotificationDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  channelId!: string;

  @Field(() => ID, { nullable: true })
  batchExportId!: string | null;

  @Field(() => NotificationEventEnum)
  event!: NotificationEventEnum;

  @Field()
  text!: string;

  @Field(() => NotificationStatusEnum)
  status!: NotificationStatusEnum;

  @Field(() => Int)
  attempts!: number;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => Int, { description: 'Events of the same kind the rate limit held back after this one (sent as one summary).' })
  suppressedCount!: number;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  deliveredAt!: Date | null;
}
