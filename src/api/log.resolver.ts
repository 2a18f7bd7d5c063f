import { inject, injectable } from 'tsyringe';
import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { LogLevel } from '../store/entities';
import type { ApiContext } from './context';
import { LogLevelEnum } from './enums';
import { LogEntryConnection } from './log.type';
import { LogService } from './log.service';

@injectable()
@Resolver()
export class LogResolver {
  constructor(@inject(LogService) private readonly logService: LogService) {}

  @Query(() => LogEntryConnection, { description: 'Logs of an export or one run (give either or both), newest first. search: case-insensitive substring.' })
  logs(
    @Ctx() ctx: ApiContext,
    @Arg('batchExportId', () => ID, { nullable: true }) batchExportId?: string,
    @Arg('runId', () => ID, { nullable: true }) runId?: string,
    @Arg('level', () => [LogLevelEnum], { nullable: true }) level?: LogLevelEnum[],
    @Arg('from', () => Date, { nullable: true }) from?: Date,
    @Arg('to', () => Date, { nullable: true }) to?: Date,
    @Arg('search', () => String, { nullable: true }) search?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    return this.logService.list(ctx.teamId, { batchExportId, runId, level: level as LogLevel[] | undefined, from, to, search, first, after });
  }
}
