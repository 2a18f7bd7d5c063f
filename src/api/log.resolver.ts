import { inject, injectable } from 'tsyringe';
import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { LogLevel } from '../store/entities';
import type { ApiContext } from './context';
import { LogLevelEnum } from './enums';
import { LogEntryConnection } from './log.type';
import { LogService } from './log.service';
import { PageArgs } from './pagination';

@injectable()
@Resolver()
export class LogResolver {
  constructor(@inject(LogService) private readonly logService: LogService) {}

  @Query(() => LogEntryConnection, { description: 'Logs of an export or one run (give either or both), newest first. search: case-insensitive substring.' })
  logs(
    @Ctx() ctx: ApiContext,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('batchExportId', () => ID, { nullable: true, description: 'Logs of this export (its runs and the export itself).' }) batchExportId?: string,
    @Arg('runId', () => ID, { nullable: true, description: 'Logs of this run only.' }) runId?: string,
    @Arg('level', () => [LogLevelEnum], { nullable: true, description: 'Only these levels; omitted: all.' }) level?: LogLevelEnum[],
    @Arg('from', () => Date, { nullable: true, description: 'Only lines logged at or after this.' }) from?: Date,
    @Arg('to', () => Date, { nullable: true, description: 'Only lines logged before this.' }) to?: Date,
    @Arg('search', () => String, { nullable: true, description: 'Only lines containing this text, ignoring case (at most 1000 characters).' }) search?: string,
  ) {
    return this.logService.list(ctx.teamId, { batchExportId, runId, level: level as LogLevel[] | undefined, from, to, search, ...page });
  }
}
