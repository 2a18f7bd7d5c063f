import { ArrayMaxSize, ArrayMinSize, IsOptional, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { NotificationChannelKindEnum, NotificationEventEnum } from './notification.type';

@InputType()
export class EmailSettingsInput {
  @Field()
  @Length(1, 255)
  smtpHost!: string;

  @Field(() => Int, { defaultValue: 587 })
  @Min(1)
  @Max(65535)
  smtpPort!: number;

  @Field({ defaultValue: false, description: 'true: TLS from the first byte (port 465). false: STARTTLS when offered.' })
  smtpSecure!: boolean;

  @Field(() => String, { nullable: true })
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

  @Field(() => [String])
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @MaxLength(320, { each: true })
  to!: string[];
}

@InputType()
export class NotificationChannelInput {
  @Field({ nullable: true, description: 'Required on create.' })
  @IsOptional()
  @Length(1, 200)
  name?: string;

  @Field(() => NotificationChannelKindEnum, { nullable: true, description: 'Required on create; cannot change.' })
  kind?: NotificationChannelKindEnum;

  @Field(() => ID, { nullable: true, description: 'Create only. Omitted: a team default for every export.' })
  batchExportId?: string | null;

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

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  enabled?: boolean | null;
}
