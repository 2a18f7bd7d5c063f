/** Run logs: stored for the API (users read them per export and per run) and mirrored to the process log. */
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { describeRule, type PluginLogger, type Replacement } from '../sdk';
import type { LogLevel } from '../store/entities';

/**
 * Fields of a process log line about a run, beside the readable message (which users read in the run log as is):
 * numbers go here so a log collector can filter and sum them. team, export, run and attempt are always added.
 */
export interface RunLogFields {
  rows?: number;
  bytes?: number;
  /** Milliseconds. */
  durationMs?: number;
  [field: string]: unknown;
}

export interface RunLog {
  debug(msg: string, fields?: RunLogFields): Promise<void>;
  info(msg: string, fields?: RunLogFields): Promise<void>;
  warn(msg: string, fields?: RunLogFields): Promise<void>;
  error(msg: string, fields?: RunLogFields): Promise<void>;
}

/** `run` is read when each line is written, so a run entity passed here logs the attempt current at that time. */
export function runLog(ds: DataSource, log: Logger, run: { teamId: number; batchExportId: string; id: string; attempt?: number }): RunLog {
  const write = async (level: LogLevel, message: string, fields?: RunLogFields) => {
    log[level === 'WARN' ? 'warn' : (level.toLowerCase() as 'debug' | 'info' | 'error')](
      { team: run.teamId, export: run.batchExportId, run: run.id, attempt: run.attempt, ...fields },
      message,
    );
    await ds.query(`INSERT INTO log_entries (team_id, batch_export_id, run_id, level, message) VALUES ($1, $2, $3, $4, $5)`, [
      run.teamId, run.batchExportId, run.id, level, message.slice(0, 10_000),
    ]);
  };
  return {
    debug: (m, f) => write('DEBUG', m, f),
    info: (m, f) => write('INFO', m, f),
    warn: (m, f) => write('WARN', m, f),
    error: (m, f) => write('ERROR', m, f),
  };
}

/** Log entries about an export rather than one run (auto-pause, scheduling). */
export async function exportLog(ds: DataSource, teamId: number, batchExportId: string, level: LogLevel, message: string): Promise<void> {
  await ds.query(`INSERT INTO log_entries (team_id, batch_export_id, level, message) VALUES ($1, $2, $3, $4)`, [teamId, batchExportId, level, message]);
}

/**
 * The plugin's logger for one run: everything goes to the process log as before, and warnings and errors are also
 * stored in the run's log, where users look. Storing is asynchronous; `flush()` waits for it.
 */
export function runPluginLogger(
  ds: DataSource,
  base: PluginLogger,
  run: { teamId: number; batchExportId: string; id: string },
): PluginLogger & { flush(): Promise<void> } {
  const pending = new Set<Promise<unknown>>();
  const store = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    const text = fields && Object.keys(fields).length ? `${message} ${JSON.stringify(fields)}` : message;
    const p = ds
      .query(`INSERT INTO log_entries (team_id, batch_export_id, run_id, level, message) VALUES ($1, $2, $3, $4, $5)`, [
        run.teamId, run.batchExportId, run.id, level, text.slice(0, 10_000),
      ])
      .catch((err) => base.error('could not store a plugin log line in the run log', { error: String(err) }))
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  return {
    debug: (m, f) => base.debug(m, f),
    info: (m, f) => base.info(m, f),
    warn: (m, f) => {
      base.warn(m, f);
      store('WARN', m, f);
    },
    error: (m, f) => {
      base.error(m, f);
      store('ERROR', m, f);
    },
    flush: async () => {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

/** The replacements as stored on the run and shown by the API: each with its rule in words. */
export function describedReplacements(list: readonly Replacement[]): Required<Replacement>[] {
  return list.map((r) => ({ column: r.column, rule: r.rule, count: r.count, description: describeRule(r) }));
}

/** One WARN line per rule, with the count per column: `invalid_utf8 (…): 3 value(s) — distinct_id 1, properties 2.` */
export async function logReplacements(log: RunLog, list: readonly Replacement[]): Promise<void> {
  const byRule = new Map<string, Replacement[]>();
  for (const r of list) byRule.set(r.rule, [...(byRule.get(r.rule) ?? []), r]);
  for (const [rule, entries] of byRule) {
    const total = entries.reduce((n, r) => n + r.count, 0);
    const columns = entries.map((r) => `${r.column} ${r.count}`).join(', ');
    await log.warn(`Replaced ${total} value(s) by the rule ${rule} (${describeRule(entries[0])}): ${columns}.`, { rule, values: total });
  }
}
