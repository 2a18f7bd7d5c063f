import { ArrayMaxSize, ArrayMinSize, IsOptional, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { NotificationChannelKindEnum, NotificationEventEnum } from './notification.type';

@InputType({ description: 'SMTP settings of an EMAIL channel.' })
export class EmailSettingsInput {
  @Field({ description: 'The SMTP server host name.' })
  @Length(1, 255)
  smtpHost!: string;

  @Field(() => Int, { defaultValue: 587, description: 'The SMTP port. Default: 587.' })
  @Min(1)
  @Max(65535)
  smtpPort!: number;

  @Field({ defaultValue: false, description: 'true: TLS from the first byte (port 465). false (default): STARTTLS when offered.' })
  smtpSecure!: boolean;

  @Field(() => String, { nullable: true, description: 'The SMTP user name; null: no authentication.' })
  @IsOptional()
  @MaxLength(255)
  smtpUser?: string | null;

  @Field(() => String, { nullable: true, description: 'Stored encrypted, never returned. Omitted on update: kept.' })
  @IsOptional()
  @MaxLength(1000)
  smtpPassword?: string | null;

  @Field({ description: 'Sender address, e.g. "Outport <outport@example.com>".' })
  @Length(3, 320)
  from!: string;

  @Field(() => [String], { description: 'Recipient addresses (1-50).' })
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @MaxLength(320, { each: true })
  to!: string[];
}

/** What create and update share; on update, omitted fields keep their values. */
@InputType('NotificationChannelInputBase')
abstract class NotificationChannelFields {
  @Field(() => [NotificationEventEnum], { nullable: true, description: 'Default on create: RUN_FAILED, EXPORT_AUTO_PAUSED, EXPORT_RECOVERED.' })
  @IsOptional()
  @ArrayMaxSize(10)
  events?: NotificationEventEnum[];

  @Field(() => String, { nullable: true, description: 'WEBHOOK and SLACK: an absolute http(s) URL. SLACK URLs are stored encrypted.' })
  @IsOptional()
  @MaxLength(2000)
  url?: string | null;

  @Field(() => EmailSettingsInput, { nullable: true, description: 'EMAIL only.' })
  @IsOptional()
  @ValidateNested()
  email?: EmailSettingsInput | null;

  @Field(() => Int, { nullable: true, description: 'Required for RUN_SLOW. null on update: cleared.' })
  @IsOptional()
  @Min(1)
  @Max(7 * 86_400)
  slowRunSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Required for EXPORT_STALE (at least 1).' })
  @IsOptional()
  @Min(1)
  @Max(1000)
  staleIntervals?: number | null;

  @Field(() => Int, { nullable: true, description: 'Default: 900 (15 min).' })
  @IsOptional()
  @Min(1)
  @Max(86_400)
  rateLimitSeconds?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'false: the channel sends nothing. Default on create: true.' })
  @IsOptional()
  enabled?: boolean | null;
}

@InputType({ description: 'A new notification channel.' })
export class CreateNotificationChannelInput extends NotificationChannelFields {
  // Empty names are the service's to refuse, with a message saying what to do.
  @Field({ description: 'A name to tell channels apart (1-200 characters).' })
  @MaxLength(200)
  name!: string;

  @Field(() => NotificationChannelKindEnum, { description: 'Where messages go; cannot change later.' })
  kind!: NotificationChannelKindEnum;

  @Field(() => ID, { nullable: true, description: 'Only this export; omitted: a team default for every export. Cannot change later.' })
  batchExportId?: string | null;
}

@InputType({ description: 'Changes to a notification channel: omitted fields keep their values; secrets are kept unless given.' })
export class UpdateNotificationChannelInput extends NotificationChannelFields {
  @Field(() => ID, { description: 'The channel to change.' })
  id!: string;

  @Field({ nullable: true, description: 'A new name (1-200 characters).' })
  @IsOptional()
  @Length(1, 200)
  name?: string;
}

/** What the service reads from either input. */
export type NotificationChannelInput = NotificationChannelFields & { name?: string; kind?: NotificationChannelKindEnum; batchExportId?: string | null };
