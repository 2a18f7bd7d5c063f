import { Field, Float, ID, ObjectType } from 'type-graphql';
import { BackfillStatusEnum } from './enums';
import { SafeInt } from './scalars';

@ObjectType({ description: 'Computed from the backfill\'s runs on every read (never stored).' })
export class BackfillProgress {
  @Field(() => SafeInt)
  totalRuns!: number;

  @Field(() => SafeInt, { description: 'Runs in a final state: Completed, Failed, Cancelled or TimedOut.' })
  finishedRuns!: number;

  @Field(() => SafeInt, { description: 'Runs that ended Failed or TimedOut.' })
  failedRuns!: number;

  @Field(() => SafeInt)
  recordsCompleted!: number;
}

@ObjectType({
  description:
    'An ESTIMATE, not a promise. rows and bytes come from the source (null when no source is configured); '
    + 'seconds assumes 2 s of overhead per run plus 50,000 rows per second, and ignores queueing behind other runs.',
})
export class BackfillEstimate {
  @Field(() => SafeInt)
  runs!: number;

  @Field(() => SafeInt, { nullable: true })
  rows!: number | null;

  @Field(() => SafeInt, { nullable: true })
  bytes!: number | null;

  @Field(() => Float)
  seconds!: number;
}

/** Resolved from `BackfillEntity` rows; `progress` is a field resolver. */
@ObjectType()
export class Backfill {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  batchExportId!: string;

  @Field(() => Date)
  startAt!: Date;

  @Field(() => Date)
  endAt!: Date;

  @Field(() => BackfillStatusEnum)
  status!: BackfillStatusEnum;

  @Field(() => BackfillEstimate, { nullable: true, description: 'The estimate made when the backfill was created.' })
  estimate!: BackfillEstimate | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}
