import { inject, injectable } from 'tsyringe';
import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RunEntity, RunStatus } from '../store/entities';
import type { ApiContext } from './context';
import { RunOrderEnum, RunStatusEnum } from './enums';
import { Run, RunConnection } from './run.type';
import { RunService } from './run.service';

@injectable()
@Resolver(() => Run)
export class RunResolver {
  constructor(@inject(RunService) private readonly runService: RunService) {}

  @Query(() => RunConnection, { description: 'Runs of an export, newest first; interval filters select runs overlapping [intervalFrom, intervalTo).' })
  runs(
    @Ctx() ctx: ApiContext,
    @Arg('batchExportId', () => ID) batchExportId: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('status', () => [RunStatusEnum], { nullable: true }) status?: RunStatusEnum[],
    @Arg('intervalFrom', () => Date, { nullable: true }) intervalFrom?: Date,
    @Arg('intervalTo', () => Date, { nullable: true }) intervalTo?: Date,
    @Arg('orderBy', () => RunOrderEnum, { defaultValue: RunOrderEnum.INTERVAL_START }) orderBy?: RunOrderEnum,
  ) {
    return this.runService.list(ctx.teamId, { batchExportId, first, after, status: status as RunStatus[] | undefined, intervalFrom, intervalTo, orderBy });
  }

  @Query(() => Run)
  run(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.runService.get(ctx.teamId, id);
  }

  @FieldResolver(() => Float, { nullable: true, description: 'finishedAt - startedAt in seconds; null until both are known.' })
  durationSeconds(@Root() run: RunEntity): number | null {
    if (!run.startedAt || !run.finishedAt) return null;
    return (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000;
  }

  @Authorized('write')
  @Mutation(() => Run, { description: "Re-queues a finished run; it re-executes with the export's current configuration." })
  retryRun(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.runService.retry(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => Run, { description: 'A queued run is cancelled at once; a running one gets cancelRequestedAt and the worker stops it.' })
  cancelRun(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.runService.cancel(ctx.teamId, id);
  }
}
