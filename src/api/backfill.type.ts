import { Field, Float, ID, ObjectType } from 'type-graphql';
import { BackfillStatusEnum } from './enums';
import { ConnectionType } from './pagination';
import { SafeInt } from './scalars';

@ObjectType({ description: 'Computed from the backfill\'s runs on every read (never stored).' })
export class BackfillProgress {
  @Field(() => SafeInt, { description: 'Runs the backfill created.' })
  totalRuns!: number;

  @Field(() => SafeInt, { description: 'Runs in a final state: Completed, Failed, Cancelled or TimedOut.' })
  finishedRuns!: number;

  @Field(() => SafeInt, { description: 'Runs that ended Failed or TimedOut.' })
  failedRuns!: number;

  @Field(() => SafeInt, { description: 'Rows its runs landed at the destination.' })
  recordsCompleted!: number;
}

@ObjectType({
  description:
    'An ESTIMATE, not a promise. rows and bytes come from the source (null when no source is configured); '
    + "seconds is runs x secondsPerRun + rows / rowsPerSecond, measured on the export's latest completed runs "
    + '(calibrationRuns of them) when it has at least 3, else 2 s per run and 50,000 rows per second; it ignores queueing behind other runs.',
})
export class BackfillEstimate {
  @Field(() => SafeInt, { description: 'Runs the backfill creates (one per interval).' })
  runs!: number;

  @Field(() => SafeInt, { nullable: true, description: 'Source rows the range holds for the export (an estimate: before deduplication).' })
  rows!: number | null;

  @Field(() => SafeInt, { nullable: true, description: "Source bytes: an approximation of those rows' uncompressed size in ClickHouse (their JSON and text columns plus about 250 bytes per row), not the bytes the destination receives (format and compression differ)." })
  bytes!: number | null;

  @Field(() => Float, { description: 'Expected time in seconds.' })
  seconds!: number;

  @Field(() => Float, { nullable: true, description: 'Overhead per run the expected time assumes (null on backfills estimated before it was recorded).' })
  secondsPerRun?: number | null;

  @Field(() => Float, { nullable: true, description: 'Rows per second the expected time assumes.' })
  rowsPerSecond?: number | null;

  @Field(() => SafeInt, { nullable: true, description: "Completed runs of this export the rate and overhead were measured on; 0: the defaults." })
  calibrationRuns?: number | null;
}

/** Resolved from `BackfillEntity` rows; `progress` is a field resolver. */
@ObjectType({ description: 'Runs of an export over a past range, one per interval, executed oldest first.' })
export class Backfill {
  @Field(() => ID, { description: 'The backfill id.' })
  id!: string;

  @Field(() => ID, { description: 'The export backfilled.' })
  batchExportId!: string;

  @Field(() => Date, { description: 'Start of the range (aligned to an interval start).' })
  startAt!: Date;

  @Field(() => Date, { description: 'End of the range (aligned to an interval end).' })
  endAt!: Date;

  @Field(() => BackfillStatusEnum, { description: 'Where the backfill is in its life.' })
  status!: BackfillStatusEnum;

  @Field(() => BackfillEstimate, { nullable: true, description: 'The estimate made when the backfill was created.' })
  estimate!: BackfillEstimate | null;

  @Field(() => Date, { description: 'When the backfill was created.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When its last run finished (or it was cancelled); null while it runs.' })
  finishedAt!: Date | null;
}

@ObjectType({ description: 'A page of backfills.' })
export class BackfillConnection extends ConnectionType('Backfill', Backfill, { itemsDescription: 'backfills' }) {}
