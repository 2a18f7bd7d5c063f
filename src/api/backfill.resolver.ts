import { inject, injectable } from 'tsyringe';
import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { BackfillEntity } from '../store/entities';
import { Backfill, BackfillEstimate, BackfillProgress } from './backfill.type';
import { BackfillService } from './backfill.service';
import type { ApiContext } from './context';

@injectable()
@Resolver(() => Backfill)
export class BackfillResolver {
  constructor(@inject(BackfillService) private readonly backfillService: BackfillService) {}

  @Query(() => [Backfill], { description: 'Backfills of an export, newest first.' })
  backfills(@Ctx() ctx: ApiContext, @Arg('batchExportId', () => ID) batchExportId: string) {
    return this.backfillService.list(ctx.teamId, batchExportId);
  }

  @Query(() => Backfill)
  backfill(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.backfillService.get(ctx.teamId, id);
  }

  @Query(() => BackfillEstimate, { description: 'What a backfill of [startAt, endAt) would take. An ESTIMATE: see the type.' })
  estimateBackfill(
    @Ctx() ctx: ApiContext,
    @Arg('batchExportId', () => ID) batchExportId: string,
    @Arg('startAt', () => Date) startAt: Date,
    @Arg('endAt', () => Date) endAt: Date,
  ) {
    return this.backfillService.estimate(ctx.teamId, batchExportId, startAt, endAt);
  }

  @FieldResolver(() => BackfillProgress)
  progress(@Root() b: BackfillEntity) {
    return this.backfillService.progress(b.id);
  }

  @Authorized('write')
  @Mutation(() => Backfill, {
    description:
      'One run per interval of [startAt, endAt) (widened to whole intervals, capped by the export\'s endAt), executed oldest first. '
      + 'endAt may not be in the future. TOO_MANY_REQUESTS when the team already runs maxConcurrentBackfills backfills.',
  })
  createBackfill(
    @Ctx() ctx: ApiContext,
    @Arg('batchExportId', () => ID) batchExportId: string,
    @Arg('startAt', () => Date) startAt: Date,
    @Arg('endAt', () => Date) endAt: Date,
  ) {
    return this.backfillService.create(ctx.teamId, batchExportId, startAt, endAt);
  }

  @Authorized('write')
  @Mutation(() => Backfill, { description: 'Cancels queued runs of the backfill and asks its running run to stop.' })
  cancelBackfill(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.backfillService.cancel(ctx.teamId, id);
  }
}
