import { inject, injectable } from 'tsyringe';
import { Arg, Args, Authorized, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RunEntity, RunStatus } from '../store/entities';
import type { ApiContext } from './context';
import { RunOrderEnum, RunStatusEnum } from './enums';
import { Run, RunAttempt, RunConnection } from './run.type';
import { RunService } from './run.service';
import { PageArgs } from './pagination';
import { ErrorKindEnum, RunAttemptStatusEnum } from './enums';

/**
 * The start of the run's current attempt, from its history; startedAt for runs that have none (finished before
 * attempts were recorded). A run never attempted since a user's retry (attempt 0) has no current attempt.
 */
async function currentAttemptStart(ctx: ApiContext, run: RunEntity): Promise<Date | null> {
  const attempts = await ctx.loaders.runAttempts(run.id);
  if (!attempts.length) return run.startedAt;
  if (run.attempt === 0) return null;
  return attempts.filter((a) => a.attempt === run.attempt).at(-1)?.startedAt ?? null;
}

@injectable()
@Resolver(() => Run)
export class RunResolver {
  constructor(@inject(RunService) private readonly runService: RunService) {}

  @Query(() => RunConnection, { description: 'Runs of an export, newest first; interval filters select runs overlapping [intervalFrom, intervalTo).' })
  runs(
    @Ctx() ctx: ApiContext,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('batchExportId', () => ID, { description: 'The export whose runs to list.' }) batchExportId: string,
    @Arg('status', () => [RunStatusEnum], { nullable: true, description: 'Only runs in one of these states; omitted: all.' }) status?: RunStatusEnum[],
    @Arg('intervalFrom', () => Date, { nullable: true, description: 'Only runs whose interval ends after this.' }) intervalFrom?: Date,
    @Arg('intervalTo', () => Date, { nullable: true, description: 'Only runs whose interval starts before this.' }) intervalTo?: Date,
    @Arg('orderBy', () => RunOrderEnum, { defaultValue: RunOrderEnum.INTERVAL_START, description: 'The sort key. Default: INTERVAL_START.' }) orderBy?: RunOrderEnum,
  ) {
    return this.runService.list(ctx.teamId, { batchExportId, ...page, status: status as RunStatus[] | undefined, intervalFrom, intervalTo, orderBy });
  }

  @Query(() => Run, { nullable: true, description: 'One run; null (with a NOT_FOUND error) when the team has none with this id.' })
  run(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The run id.' }) id: string) {
    return this.runService.get(ctx.teamId, id);
  }

  @FieldResolver(() => [RunAttempt], { description: 'Every attempt of the run, oldest first (runs finished before attempts were recorded have none).' })
  async attempts(@Ctx() ctx: ApiContext, @Root() run: RunEntity): Promise<RunAttempt[]> {
    return (await ctx.loaders.runAttempts(run.id)).map((a) => ({
      number: a.attempt,
      workerId: a.workerId,
      startedAt: a.startedAt,
      finishedAt: a.finishedAt,
      status: a.status as RunAttemptStatusEnum,
      error: a.error,
      errorKind: a.errorKind as ErrorKindEnum | null,
      recordsRead: a.recordsRead,
      recordsCompleted: a.recordsCompleted,
      bytesExported: a.bytesExported,
      durationSeconds: a.finishedAt ? (a.finishedAt.getTime() - a.startedAt.getTime()) / 1000 : null,
    }));
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description: "When the current attempt started (startedAt is the first attempt's): null until a worker picks the run up, and again while a user's retry waits for its first attempt.",
  })
  attemptStartedAt(@Ctx() ctx: ApiContext, @Root() run: RunEntity): Promise<Date | null> {
    return currentAttemptStart(ctx, run);
  }

  @FieldResolver(() => Float, { nullable: true, description: 'finishedAt - attemptStartedAt in seconds (the attempt that finished the run); null until both are known.' })
  async durationSeconds(@Ctx() ctx: ApiContext, @Root() run: RunEntity): Promise<number | null> {
    if (!run.finishedAt) return null;
    const start = await currentAttemptStart(ctx, run);
    if (!start) return null;
    return Math.max(0, run.finishedAt.getTime() - start.getTime()) / 1000;
  }

  @Authorized('write')
  @Mutation(() => Run, { description: "Re-queues a finished run; it re-executes with the export's current configuration." })
  retryRun(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The finished run to re-queue.' }) id: string) {
    return this.runService.retry(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => Int, {
    description:
      'Re-queues every FAILED or TIMED_OUT run of the export whose interval overlaps [startAt, endAt) (as the runs query filters), ' +
      'each as retryRun does, in one transaction; returns how many. BAD_USER_INPUT on a paused export: unpause it first.',
  })
  retryFailedRuns(
    @Ctx() ctx: ApiContext,
    @Arg('batchExportId', () => ID, { description: 'The export whose failed runs to retry.' }) batchExportId: string,
    @Arg('startAt', () => Date, { description: 'Start of the range (runs whose interval ends after it).' }) startAt: Date,
    @Arg('endAt', () => Date, { description: 'End of the range (runs whose interval starts before it).' }) endAt: Date,
  ) {
    return this.runService.retryFailed(ctx.teamId, batchExportId, startAt, endAt);
  }

  @Authorized('write')
  @Mutation(() => Run, { description: 'A queued run is cancelled at once; a running one gets cancelRequestedAt and the worker stops it.' })
  cancelRun(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The queued or running run to cancel.' }) id: string) {
    return this.runService.cancel(ctx.teamId, id);
  }
}
