import { Field, ID, Int, ObjectType } from 'type-graphql';
import { IntervalEnum, ModelEnum, PropertyFilterTypeEnum } from './enums';
import { ConnectionType } from './pagination';
import { JSON } from './scalars';

@ObjectType({ description: 'A condition on an event or person property; all filters of an export must hold.' })
export class PropertyFilter {
  @Field()
  key!: string;

  @Field()
  operator!: string;

  @Field(() => JSON, { nullable: true })
  value!: unknown;

  @Field(() => PropertyFilterTypeEnum, { nullable: true })
  type!: PropertyFilterTypeEnum | null;
}

/** Resolved from `BatchExportEntity` rows; `destination` and `latestRuns` are field resolvers. */
@ObjectType()
export class BatchExport {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => ID)
  destinationId!: string;

  @Field(() => ModelEnum)
  model!: ModelEnum;

  @Field(() => IntervalEnum)
  interval!: IntervalEnum;

  @Field({ description: 'IANA time zone aligning HOUR, DAY and WEEK intervals.' })
  timezone!: string;

  @Field(() => Int, { description: 'Hour of the local day (0-23) at which DAY and WEEK intervals start.' })
  offsetHour!: number;

  @Field(() => Int, { description: 'Weekday (0 = Sunday) at which WEEK intervals start.' })
  offsetDay!: number;

  @Field(() => [String], { description: 'Only these events (empty: all events).' })
  includeEvents!: string[];

  @Field(() => [String])
  excludeEvents!: string[];

  @Field(() => [PropertyFilter])
  filters!: PropertyFilter[];

  @Field(() => Date, { nullable: true })
  startAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'No interval starting at or after this is exported; also caps backfills.' })
  endAt!: Date | null;

  @Field()
  paused!: boolean;

  @Field(() => Date, { nullable: true })
  pausedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Set when Outport paused the export itself (auto-pause after failures).' })
  pausedReason!: string | null;

  @Field(() => Int, { description: 'Most runs of this export executing at once (events only; persons and sessions run one at a time, in interval order).' })
  maxConcurrentRuns!: number;

  @Field(() => Date, { nullable: true, description: 'End of the last interval the scheduler created a run for.' })
  scheduledUntil!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

@ObjectType()
export class BatchExportConnection extends ConnectionType('BatchExport', BatchExport) {}
