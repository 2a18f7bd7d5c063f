import { inject, injectable } from 'tsyringe';
import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { BackfillEntity } from '../store/entities';
import { Backfill, BackfillEstimate, BackfillProgress } from './backfill.type';
import { BackfillService } from './backfill.service';
import type { ApiContext } from './context';

const FROM_FIRST_EVENT =
  "Start at the team's earliest data of the export's model in ClickHouse (events: first insertion; persons: first " +
  "distinct-id change), aligned down to the export's interval. startAt must then be omitted. BAD_USER_INPUT when the team has no such data.";

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

  @Query(() => BackfillEstimate, { description: 'What a backfill of [startAt, endAt) would take (startAt as createBackfill reads it). An ESTIMATE: see the type.' })
  estimateBackfill(
    @Ctx() ctx: ApiContext,
    @Arg('batchExportId', () => ID) batchExportId: string,
    @Arg('startAt', () => Date, { nullable: true }) startAt: Date | null | undefined,
    @Arg('endAt', () => Date) endAt: Date,
    @Arg('fromFirstEvent', () => Boolean, { nullable: true, description: FROM_FIRST_EVENT }) fromFirstEvent?: boolean | null,
  ) {
    return this.backfillService.estimate(ctx.teamId, batchExportId, startAt, endAt, fromFirstEvent ?? false);
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
    @Arg('startAt', () => Date, { nullable: true, description: 'Required unless fromFirstEvent is true.' }) startAt: Date | null | undefined,
    @Arg('endAt', () => Date) endAt: Date,
    @Arg('fromFirstEvent', () => Boolean, { nullable: true, description: FROM_FIRST_EVENT }) fromFirstEvent?: boolean | null,
  ) {
    return this.backfillService.create(ctx.teamId, batchExportId, startAt, endAt, fromFirstEvent ?? false);
  }

  @Authorized('write')
  @Mutation(() => Backfill, { description: 'Cancels queued runs of the backfill and asks its running run to stop.' })
  cancelBackfill(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.backfillService.cancel(ctx.teamId, id);
  }
}
