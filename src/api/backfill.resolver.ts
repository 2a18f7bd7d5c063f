import { inject, injectable } from 'tsyringe';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { BackfillEntity } from '../store/entities';
import { CreateBackfillInput, FROM_FIRST_EVENT } from './backfill.input';
import { Backfill, BackfillConnection, BackfillEstimate, BackfillProgress } from './backfill.type';
import { BackfillService } from './backfill.service';
import type { ApiContext } from './context';
import { underInput } from './errors';
import { connectionFromList, PageArgs } from './pagination';

@injectable()
@Resolver(() => Backfill)
export class BackfillResolver {
  constructor(@inject(BackfillService) private readonly backfillService: BackfillService) {}

  @Query(() => BackfillConnection, { description: 'Backfills of an export, newest first.' })
  async backfills(
    @Ctx() ctx: ApiContext,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('batchExportId', () => ID, { description: 'The export whose backfills to list.' }) batchExportId: string,
  ) {
    const all = await this.backfillService.list(ctx.teamId, batchExportId);
    return connectionFromList(all, page, (b) => ({ sortValue: b.createdAt.toISOString(), id: b.id }), { newestFirst: true });
  }

  @Query(() => Backfill, { nullable: true, description: 'One backfill; null (with a NOT_FOUND error) when the team has none with this id.' })
  backfill(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The backfill id.' }) id: string) {
    return this.backfillService.get(ctx.teamId, id);
  }

  @Query(() => BackfillEstimate, { description: 'What a backfill of [startAt, endAt) would take (startAt as createBackfill reads it). An ESTIMATE: see the type.' })
  estimateBackfill(
    @Ctx() ctx: ApiContext,
    @Arg('batchExportId', () => ID, { description: 'The export to backfill.' }) batchExportId: string,
    @Arg('startAt', () => Date, { nullable: true, description: 'Start of the range. Required unless fromFirstEvent is true.' }) startAt: Date | null | undefined,
    @Arg('endAt', () => Date, { description: 'End of the range.' }) endAt: Date,
    @Arg('fromFirstEvent', () => Boolean, { nullable: true, description: FROM_FIRST_EVENT }) fromFirstEvent?: boolean | null,
  ) {
    return this.backfillService.estimate(ctx.teamId, batchExportId, startAt, endAt, fromFirstEvent ?? false);
  }

  @FieldResolver(() => BackfillProgress, { description: "Counts of the backfill's runs, computed on every read." })
  progress(@Root() b: BackfillEntity) {
    return this.backfillService.progress(b.id);
  }

  @Authorized('write')
  @Mutation(() => Backfill, {
    description:
      'One run per interval of [startAt, endAt) (widened to whole intervals, capped by the export\'s endAt), executed oldest first. '
      + 'endAt may not be in the future. TOO_MANY_REQUESTS when the team already runs maxConcurrentBackfills backfills.',
  })
  createBackfill(@Ctx() ctx: ApiContext, @Arg('input', () => CreateBackfillInput, { description: 'The export and range to backfill.' }) input: CreateBackfillInput) {
    return underInput(() => this.backfillService.create(ctx.teamId, input.batchExportId, input.startAt, input.endAt, input.fromFirstEvent ?? false));
  }

  @Authorized('write')
  @Mutation(() => Backfill, { description: 'Cancels queued runs of the backfill and asks its running run to stop.' })
  cancelBackfill(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The backfill to cancel.' }) id: string) {
    return this.backfillService.cancel(ctx.teamId, id);
  }
}
