import { inject, injectable } from 'tsyringe';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { BatchExportEntity } from '../store/entities';
import { BatchExportConnection, BatchExport, ExportSchemaPreview } from './batch-export.type';
import { CreateBatchExportInput, CustomQueryInput, ExportFieldInput, ExportLayoutEnum, UpdateBatchExportInput } from './batch-export.input';
import { ModelEnum } from './enums';
import { BatchExportService } from './batch-export.service';
import type { ApiContext } from './context';
import { Destination } from './destination.type';
import { PageArgs } from './pagination';
import { Run } from './run.type';

@injectable()
@Resolver(() => BatchExport)
export class BatchExportResolver {
  constructor(
    @inject(BatchExportService) private readonly exportService: BatchExportService,
  ) {}

  @Query(() => BatchExportConnection, { description: "The team's live exports, newest first." })
  batchExports(
    @Ctx() ctx: ApiContext,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('paused', () => Boolean, { nullable: true, description: 'true: only paused exports; false: only active ones; omitted: both.' }) paused?: boolean,
  ) {
    return this.exportService.list(ctx.teamId, page, paused);
  }

  @Query(() => BatchExport, { nullable: true, description: 'One export; null (with a NOT_FOUND error) when the team has none with this id.' })
  batchExport(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The export id.' }) id: string) {
    return this.exportService.get(ctx.teamId, id);
  }

  @Query(() => ExportSchemaPreview, {
    description: 'The columns (and types) an export with this model, fields or custom query would write, checked as createBatchExport checks them, with up to `rows` real rows of the last day.',
  })
  previewExportSchema(
    @Ctx() ctx: ApiContext,
    @Arg('model', () => ModelEnum, { defaultValue: ModelEnum.EVENTS, description: 'The data model, as createBatchExport takes it.' }) model: ModelEnum,
    @Arg('fields', () => [ExportFieldInput], { nullable: true, description: 'The column selection, as createBatchExport takes it.' }) fields?: ExportFieldInput[],
    @Arg('customQuery', () => CustomQueryInput, { nullable: true, description: 'A custom query, as createBatchExport takes it.' }) customQuery?: CustomQueryInput,
    @Arg('rows', () => Int, { defaultValue: 5, description: 'At most 20.' }) rows = 5,
    @Arg('layout', () => ExportLayoutEnum, { defaultValue: ExportLayoutEnum.OUTPORT, description: 'The column layout, as createBatchExport takes it.' }) layout: ExportLayoutEnum = ExportLayoutEnum.OUTPORT,
    @Arg('destinationType', () => String, { nullable: true, description: 'The destination\'s type (postgres, bigquery, s3...): needed with layout POSTHOG, whose columns depend on it.' }) destinationType?: string,
  ) {
    return this.exportService.previewSchema(ctx.teamId, { model, fields, customQuery, layout, destinationType }, rows);
  }

  @FieldResolver(() => Destination, { description: 'The destination runs write to.' })
  destination(@Root() e: BatchExportEntity, @Ctx() ctx: ApiContext) {
    return ctx.loaders.destination(e.destinationId);
  }

  @FieldResolver(() => [Run], { description: 'The most recent runs by interval, newest first (at most 100).' })
  latestRuns(@Root() e: BatchExportEntity, @Ctx() ctx: ApiContext, @Arg('limit', () => Int, { defaultValue: 10, description: 'How many runs (at most 100).' }) limit: number) {
    return ctx.loaders.latestRuns(e.id, limit);
  }

  @Authorized('write')
  @Mutation(() => BatchExport, { description: 'The first run covers the interval in progress now, executed once it closes.' })
  createBatchExport(@Ctx() ctx: ApiContext, @Arg('input', () => CreateBatchExportInput, { description: 'The new export.' }) input: CreateBatchExportInput) {
    return this.exportService.create(ctx.teamId, input);
  }

  @Authorized('write')
  @Mutation(() => BatchExport, { description: 'Patch: omitted fields keep their values; lists, when given, replace.' })
  updateBatchExport(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => UpdateBatchExportInput, { description: 'The export and its changes.' }) input: UpdateBatchExportInput,
  ) {
    return this.exportService.update(ctx.teamId, input.id, input);
  }

  @Authorized('write')
  @Mutation(() => BatchExport, { description: 'Soft delete; cancels queued runs and backfills and asks running runs to stop.' })
  deleteBatchExport(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The export to delete.' }) id: string) {
    return this.exportService.delete(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => BatchExport, { description: 'Stops scheduling runs (queued and running runs go on); unpauseBatchExport resumes.' })
  pauseBatchExport(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The export to pause.' }) id: string) {
    return this.exportService.pause(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => BatchExport, {
    description: 'Resumes at the interval in progress now. backfillPausedGap: true backfills the intervals that closed while paused; otherwise they are skipped.',
  })
  unpauseBatchExport(
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID, { description: 'The export to resume.' }) id: string,
    @Arg('backfillPausedGap', () => Boolean, { defaultValue: false, description: 'true: backfill the intervals that closed while paused. Default: false (skip them).' }) backfillPausedGap: boolean,
  ) {
    return this.exportService.unpause(ctx.teamId, id, backfillPausedGap);
  }
}
