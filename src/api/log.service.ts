/** Export and run logs, newest first, filtered by level, time and a case-insensitive substring. */
import { inject, injectable } from 'tsyringe';
import type { DataSource } from 'typeorm';
import { LogEntryEntity, type LogLevel } from '../store/entities';
import { DATA_SOURCE } from '../tokens';
import { badInput } from './errors';
import { loadExport, loadRun } from './lookup';
import { isoMicros, keysetPage, toConnection, type Connection, type PageArgs } from './pagination';

export interface LogFilter extends PageArgs {
  batchExportId?: string | null;
  runId?: string | null;
  level?: LogLevel[] | null;
  from?: Date | null;
  to?: Date | null;
  search?: string | null;
}

/** Escapes LIKE wildcards so a search for `50%` or `a_b` matches literally. */
function likePattern(text: string): string {
  return '%' + text.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

@injectable()
export class LogService {
  constructor(@inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async list(teamId: number, f: LogFilter): Promise<Connection<LogEntryEntity>> {
    if (!f.batchExportId && !f.runId) throw badInput('batchExportId', 'give batchExportId, runId or both');
    let exportId = f.batchExportId ?? undefined;
    if (f.runId) {
      const run = await loadRun(this.ds.manager, teamId, f.runId);
      if (exportId && exportId !== run.batchExportId) throw badInput('runId', 'the run does not belong to batchExportId');
      exportId = run.batchExportId;
    } else {
      await loadExport(this.ds.manager, teamId, exportId!);
    }
    if (f.from && f.to && f.from >= f.to) throw badInput('to', 'must be after from');
    if (f.search && f.search.length > 1000) throw badInput('search', 'must be at most 1000 characters');
    if (f.search?.includes('\u0000')) throw badInput('search', 'must not contain NUL characters');
    const page = keysetPage(f, 'bigint');
    const q = this.ds
      .getRepository(LogEntryEntity)
      .createQueryBuilder('l')
      .addSelect(isoMicros('l.timestamp'), 'sort_value')
      .where('l.team_id = :teamId AND l.batch_export_id = :exportId', { teamId, exportId })
      .orderBy('l.timestamp', page.order)
      .addOrderBy('l.id', page.order)
      .limit(page.limit + 1);
    if (f.runId) q.andWhere('l.run_id = :runId', { runId: f.runId });
    if (f.level?.length) q.andWhere('l.level IN (:...levels)', { levels: f.level });
    if (f.from) q.andWhere('l.timestamp >= :from', { from: f.from });
    if (f.to) q.andWhere('l.timestamp < :to', { to: f.to });
    if (f.search) q.andWhere(`l.message ILIKE :pattern ESCAPE '\\'`, { pattern: likePattern(f.search) });
    if (page.cursor) {
      q.andWhere(`(l.timestamp, l.id) ${page.pastCursor} (:ts::timestamptz, :id::bigint)`, { ts: page.cursor.sortValue, id: page.cursor.id });
    }
    const { entities, raw } = await q.getRawAndEntities();
    const sortById = new Map(raw.map((r: Record<string, string>) => [String(r.l_id), r.sort_value]));
    return toConnection(entities.map((e) => ({ node: e, id: String(e.id), sortValue: sortById.get(String(e.id))! })), page);
  }
}
