import { ArrayMaxSize, IsOptional, Length, MaxLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { IntervalEnum, ModelEnum, PropertyFilterTypeEnum } from './enums';
import { JSON } from './scalars';

export const NAME_MAX = 200;
export const EVENT_LIST_MAX = 1000;
export const FILTERS_MAX = 100;
/** Highest `maxConcurrentRuns` an export may ask for (one backfill cannot use more workers than this). */
export const MAX_CONCURRENT_RUNS_LIMIT = 32;

@InputType()
export class PropertyFilterInput {
  @Field({ description: 'Top-level property name, e.g. `$browser`.' })
  @Length(1, 1000)
  key!: string;

  @Field({ description: 'One of: exact, is_not, icontains, not_icontains, regex (RE2), is_set, is_not_set, gt, lt.' })
  operator!: string;

  @Field(() => JSON, {
    nullable: true,
    description: 'exact/is_not: a string, number or boolean, or a list of them; icontains/not_icontains/regex: a string; gt/lt: a number; is_set/is_not_set: omitted.',
  })
  value?: unknown;

  @Field(() => PropertyFilterTypeEnum, { nullable: true, description: "Where the property lives. Default: EVENT (the event's properties)." })
  type?: PropertyFilterTypeEnum | null;
}

@InputType()
export class CreateBatchExportInput {
  @Field()
  @Length(1, NAME_MAX)
  name!: string;

  @Field(() => ID)
  destinationId!: string;

  @Field(() => ModelEnum, { defaultValue: ModelEnum.EVENTS })
  model!: ModelEnum;

  @Field(() => IntervalEnum)
  interval!: IntervalEnum;

  @Field({ defaultValue: 'UTC' })
  timezone!: string;

  @Field(() => Int, { nullable: true, description: 'DAY and WEEK only: hour of the local day (0-23). Default: 0.' })
  offsetHour?: number | null;

  @Field(() => Int, { nullable: true, description: 'WEEK only: weekday, 0 = Sunday. Default: 0.' })
  offsetDay?: number | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  includeEvents?: string[] | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  excludeEvents?: string[] | null;

  @Field(() => [PropertyFilterInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(FILTERS_MAX)
  @ValidateNested({ each: true })
  filters?: PropertyFilterInput[] | null;

  @Field(() => Date, { nullable: true })
  startAt?: Date | null;

  @Field(() => Date, { nullable: true })
  endAt?: Date | null;

  @Field({ defaultValue: false })
  paused!: boolean;

  @Field(() => Int, { nullable: true, description: 'Most runs of this export executing at once (1-32): runs of an events export, of a backfill or of the schedule catching up, execute up to this many at a time on any worker processes and machines. Persons and sessions exports always run one at a time in interval order. Default: 4.' })
  maxConcurrentRuns?: number | null;
}

/** Patch: omitted fields keep their value; includeEvents/excludeEvents/filters, when given, replace the lists. */
@InputType()
export class UpdateBatchExportInput {
  @Field({ nullable: true })
  @IsOptional()
  @Length(1, NAME_MAX)
  name?: string;

  @Field(() => ID, { nullable: true })
  destinationId?: string;

  @Field(() => ModelEnum, { nullable: true })
  model?: ModelEnum;

  @Field(() => IntervalEnum, { nullable: true })
  interval?: IntervalEnum;

  @Field({ nullable: true })
  timezone?: string;

  @Field(() => Int, { nullable: true })
  offsetHour?: number | null;

  @Field(() => Int, { nullable: true })
  offsetDay?: number | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  includeEvents?: string[];

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  excludeEvents?: string[];

  @Field(() => [PropertyFilterInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(FILTERS_MAX)
  @ValidateNested({ each: true })
  filters?: PropertyFilterInput[];

  @Field(() => Date, { nullable: true, description: 'Send null to clear.' })
  startAt?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Send null to clear.' })
  endAt?: Date | null;

  @Field(() => Int, { nullable: true, description: 'See CreateBatchExportInput.maxConcurrentRuns. Runs already executing finish; queued runs follow the new limit.' })
  maxConcurrentRuns?: number | null;
}
