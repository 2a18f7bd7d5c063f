/** Run logs: stored for the API (users read them per export and per run) and mirrored to the process log. */
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { LogLevel } from '../store/entities';

export interface RunLog {
  debug(msg: string): Promise<void>;
  info(msg: string): Promise<void>;
  warn(msg: string): Promise<void>;
  error(msg: string): Promise<void>;
}

export function runLog(ds: DataSource, log: Logger, run: { teamId: number; batchExportId: string; id: string }): RunLog {
  const write = async (level: LogLevel, message: string) => {
    log[level === 'WARN' ? 'warn' : (level.toLowerCase() as 'debug' | 'info' | 'error')]({ runId: run.id, batchExportId: run.batchExportId }, message);
    await ds.query(`INSERT INTO log_entries (team_id, batch_export_id, run_id, level, message) VALUES ($1, $2, $3, $4, $5)`, [
      run.teamId, run.batchExportId, run.id, level, message.slice(0, 10_000),
    ]);
  };
  return {
    debug: (m) => write('DEBUG', m),
    info: (m) => write('INFO', m),
    warn: (m) => write('WARN', m),
    error: (m) => write('ERROR', m),
  };
}

/** Log entries about an export rather than one run (auto-pause, scheduling). */
export async function exportLog(ds: DataSource, teamId: number, batchExportId: string, level: LogLevel, message: string): Promise<void> {
  await ds.query(`INSERT INTO log_entries (team_id, batch_export_id, level, message) VALUES ($1, $2, $3, $4)`, [teamId, batchExportId, level, message]);
}
