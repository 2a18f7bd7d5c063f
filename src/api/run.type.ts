import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { RunStatusEnum, RunTriggerEnum } from './enums';
import { ConnectionType } from './pagination';
import { SafeInt } from './scalars';

/** Values of one column that a run changed by one documented lossy rule. */
@ObjectType('Replacement')
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
@ObjectType()
export class RunAttempt {
  @Field(() => Int, { description: "The run's attempt counter when this attempt started: 1 for the first; a user's retry counts from 1 again." })
  number!: number;

  @Field(() => String, { nullable: true, description: 'The worker process that executed the attempt.' })
  workerId!: string | null;

  @Field(() => Date)
  startedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Null while the attempt runs.' })
  finishedAt!: Date | null;

  @Field(() => String, {
    description: 'Running, or the run status the attempt ended with (Completed, Failed, FailedRetryable, Cancelled, TimedOut), or Lost: its worker stopped heartbeating and another attempt took the run over.',
  })
  status!: string;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, { nullable: true, description: 'retryable, permanent or config: how the failure was classified.' })
  errorKind!: string | null;

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
@ObjectType()
export class Run {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  batchExportId!: string;

  @Field(() => ID, { nullable: true })
  backfillId!: string | null;

  @Field(() => RunStatusEnum)
  status!: RunStatusEnum;

  @Field(() => RunTriggerEnum)
  trigger!: RunTriggerEnum;

  @Field(() => Date)
  intervalStart!: Date;

  @Field(() => Date)
  intervalEnd!: Date;

  @Field(() => Int, { description: 'Attempts made so far, retries included (0 until a worker first picks the run up).' })
  attempt!: number;

  @Field(() => SafeInt, { nullable: true, description: 'Rows the source reported for the interval when the latest attempt started.' })
  recordsTotalCount!: number | null;

  @Field(() => SafeInt, { description: 'Rows read from the source by the latest attempt.' })
  recordsRead!: number;

  @Field(() => SafeInt, { description: 'Rows the destination confirmed landed.' })
  recordsCompleted!: number;

  @Field(() => SafeInt)
  bytesExported!: number;

  @Field(() => String, { nullable: true })
  latestError!: string | null;

  @Field(() => String, { nullable: true, description: 'retryable, permanent or config: how the latest failure was classified.' })
  errorKind!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  heartbeatAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Set when a cancel of a running run was requested; the worker stops it.' })
  cancelRequestedAt!: Date | null;

  @Field(() => [ReplacementType], {
    description: 'Values the latest attempt could not export as they were and changed by a documented rule (invalid UTF-8 in the source, what the destination cannot store), per column and rule. Also logged as WARN lines.',
  })
  replacements!: ReplacementType[];
  // durationSeconds, attemptStartedAt, attempts: field resolvers in run.resolver.ts (from the attempt history).
}

@ObjectType()
export class RunConnection extends ConnectionType('Run', Run) {}
