import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { ErrorKindEnum, RunAttemptStatusEnum, RunStatusEnum, RunTriggerEnum } from './enums';
import { ConnectionType } from './pagination';
import { SafeInt } from './scalars';

/** Values of one column that a run changed by one documented lossy rule. */
@ObjectType('Replacement', { description: 'Values of one column that a run changed by one documented rule.' })
export class ReplacementType {
  @Field(() => String, { description: 'The model column whose values were changed.' })
  column!: string;

  @Field(() => String, { description: 'Stable id of the rule (invalid_utf8, nul, lone_surrogate, invalid_json_as_string, text_truncated, ...).' })
  rule!: string;

  @Field(() => String, { description: 'The rule in words, as the run\'s log states it.' })
  description!: string;

  @Field(() => SafeInt, { description: 'Values of the column the rule changed in the latest attempt.' })
  count!: number;
}

/** One attempt of a run: the worker that executed it, when, and how it ended. */
@ObjectType({ description: 'One attempt of a run: the worker that executed it, when, and how it ended.' })
export class RunAttempt {
  @Field(() => Int, { description: "The run's attempt counter when this attempt started: 1 for the first; a user's retry counts from 1 again." })
  number!: number;

  @Field(() => String, { nullable: true, description: 'The worker process that executed the attempt.' })
  workerId!: string | null;

  @Field(() => Date, { description: 'When the attempt started.' })
  startedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Null while the attempt runs.' })
  finishedAt!: Date | null;

  @Field(() => RunAttemptStatusEnum, { description: 'RUNNING, or how the attempt ended.' })
  status!: RunAttemptStatusEnum;

  @Field(() => String, { nullable: true, description: 'Why the attempt failed; null unless it did.' })
  error!: string | null;

  @Field(() => ErrorKindEnum, { nullable: true, description: 'How the failure was classified; null unless the attempt failed.' })
  errorKind!: ErrorKindEnum | null;

  @Field(() => SafeInt, { description: 'Rows read from the source by this attempt.' })
  recordsRead!: number;

  @Field(() => SafeInt, { description: 'Rows the destination confirmed landed by this attempt (0 unless it completed).' })
  recordsCompleted!: number;

  @Field(() => SafeInt, { description: 'Bytes written to the destination by this attempt.' })
  bytesExported!: number;

  @Field(() => Float, { nullable: true, description: 'finishedAt - startedAt in seconds; null while running.' })
  durationSeconds!: number | null;
}

/** One export of one interval `[intervalStart, intervalEnd)`. Resolved from `RunEntity` rows. */
@ObjectType({ description: 'One export of one interval [intervalStart, intervalEnd) of a batch export, with its attempts.' })
export class Run {
  @Field(() => ID, { description: 'The run id.' })
  id!: string;

  @Field(() => ID, { description: 'The export the run belongs to.' })
  batchExportId!: string;

  @Field(() => ID, { nullable: true, description: 'The backfill that created the run; null for scheduled runs.' })
  backfillId!: string | null;

  @Field(() => RunStatusEnum, { description: 'Where the run is in its life.' })
  status!: RunStatusEnum;

  @Field(() => RunTriggerEnum, { description: 'What created the run (or last re-queued it).' })
  trigger!: RunTriggerEnum;

  @Field(() => Date, { description: 'Start of the interval the run exports (inclusive).' })
  intervalStart!: Date;

  @Field(() => Date, { description: 'End of the interval the run exports (exclusive).' })
  intervalEnd!: Date;

  @Field(() => Int, { description: 'Attempts made so far, retries included (0 until a worker first picks the run up).' })
  attempt!: number;

  @Field(() => SafeInt, { nullable: true, description: 'Rows the source reported for the interval when the latest attempt started.' })
  recordsTotalCount!: number | null;

  @Field(() => SafeInt, { description: 'Rows read from the source by the latest attempt.' })
  recordsRead!: number;

  @Field(() => SafeInt, { description: 'Rows the destination confirmed landed.' })
  recordsCompleted!: number;

  @Field(() => SafeInt, { description: 'Bytes written to the destination by the latest attempt.' })
  bytesExported!: number;

  @Field(() => String, { nullable: true, description: 'The latest failure; null when no attempt failed or after a retry.' })
  latestError!: string | null;

  @Field(() => ErrorKindEnum, { nullable: true, description: 'How the latest failure was classified.' })
  errorKind!: ErrorKindEnum | null;

  @Field(() => Date, { description: 'When the run was created.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: "When the first attempt started; null until a worker picks the run up." })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the run reached a final state.' })
  finishedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "The running attempt's latest heartbeat." })
  heartbeatAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Set when a cancel of a running run was requested; the worker stops it.' })
  cancelRequestedAt!: Date | null;

  @Field(() => [ReplacementType], {
    description: 'Values the latest attempt could not export as they were and changed by a documented rule (invalid UTF-8 in the source, what the destination cannot store), per column and rule. Also logged as WARN lines.',
  })
  replacements!: ReplacementType[];
  // durationSeconds, attemptStartedAt, attempts: field resolvers in run.resolver.ts (from the attempt history).
}

@ObjectType({ description: 'A page of runs.' })
export class RunConnection extends ConnectionType('Run', Run, { itemsDescription: 'runs' }) {}
