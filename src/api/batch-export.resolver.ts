import { inject, injectable } from 'tsyringe';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { BatchExportEntity } from '../store/entities';
import { BatchExportConnection, BatchExport, ExportSchemaPreview } from './batch-export.type';
import { CreateBatchExportInput, CustomQueryInput, ExportFieldInput, ExportLayoutEnum, UpdateBatchExportInput } from './batch-export.input';
import { ModelEnum } from './enums';
import { BatchExportService } from './batch-export.service';
import type { ApiContext } from './context';
import { Destination } from './destination.type';
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
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('paused', () => Boolean, { nullable: true }) paused?: boolean,
  ) {
    return this.exportService.list(ctx.teamId, first, after, paused);
  }

  @Query(() => BatchExport)
  batchExport(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.exportService.get(ctx.teamId, id);
  }

  @Query(() => ExportSchemaPreview, {
    description: 'The columns (and types) an export with this model, fields or custom query would write, checked as createBatchExport checks them, with up to `rows` real rows of the last day.',
  })
  previewExportSchema(
    @Ctx() ctx: ApiContext,
    @Arg('model', () => ModelEnum, { defaultValue: ModelEnum.EVENTS }) model: ModelEnum,
    @Arg('fields', () => [ExportFieldInput], { nullable: true }) fields?: ExportFieldInput[],
    @Arg('customQuery', () => CustomQueryInput, { nullable: true }) customQuery?: CustomQueryInput,
    @Arg('rows', () => Int, { defaultValue: 5, description: 'At most 20.' }) rows = 5,
    @Arg('layout', () => ExportLayoutEnum, { defaultValue: ExportLayoutEnum.OUTPORT }) layout: ExportLayoutEnum = ExportLayoutEnum.OUTPORT,
    @Arg('destinationType', () => String, { nullable: true, description: 'The destination\'s type (postgres, bigquery, s3...): needed with layout POSTHOG, whose columns depend on it.' }) destinationType?: string,
  ) {
    return this.exportService.previewSchema(ctx.teamId, { model, fields, customQuery, layout, destinationType }, rows);
  }

  @FieldResolver(() => Destination)
  destination(@Root() e: BatchExportEntity, @Ctx() ctx: ApiContext) {
    return ctx.loaders.destination(e.destinationId);
  }

  @FieldResolver(() => [Run], { description: 'The most recent runs by interval, newest first (at most 100).' })
  latestRuns(@Root() e: BatchExportEntity, @Ctx() ctx: ApiContext, @Arg('limit', () => Int, { defaultValue: 10 }) limit: number) {
    return ctx.loaders.latestRuns(e.id, limit);
  }

  @Authorized('write')
  @Mutation(() => BatchExport, { description: 'The first run covers the interval in progress now, executed once it closes.' })
  createBatchExport(@Ctx() ctx: ApiContext, @Arg('input', () => CreateBatchExportInput) input: CreateBatchExportInput) {
    return this.exportService.create(ctx.teamId, input);
  }

  @Authorized('write')
  @Mutation(() => BatchExport, { description: 'Patch: omitted fields keep their values; lists, when given, replace.' })
  updateBatchExport(
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateBatchExportInput) input: UpdateBatchExportInput,
  ) {
    return this.exportService.update(ctx.teamId, id, input);
  }

  @Authorized('write')
  @Mutation(() => BatchExport, { description: 'Soft delete; cancels queued runs and backfills and asks running runs to stop.' })
  deleteBatchExport(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.exportService.delete(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => BatchExport)
  pauseBatchExport(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.exportService.pause(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => BatchExport, {
    description: 'Resumes at the interval in progress now. backfillPausedGap: true backfills the intervals that closed while paused; otherwise they are skipped.',
  })
  unpauseBatchExport(
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID) id: string,
    @Arg('backfillPausedGap', () => Boolean, { defaultValue: false }) backfillPausedGap: boolean,
  ) {
    return this.exportService.unpause(ctx.teamId, id, backfillPausedGap);
  }
}
