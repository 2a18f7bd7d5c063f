import pino from 'pino';
import type { PluginLogger } from './sdk';

export type Logger = pino.Logger;

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * JSON lines for log collectors; in a terminal (or LOG_FORMAT=pretty) one readable line per entry:
 * `12:03:04.512 INFO  run completed  team=1 export=… rows=5000`.
 */
export function createLogger(level: string, name = 'outport', format: LogFormat = 'auto', out: NodeJS.WritableStream = process.stdout): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && (out as { isTTY?: boolean }).isTTY === true);
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: { paths: ['*.password', '*.secret', '*.token', '*.authorization', 'config.*'], censor: '[redacted]' },
  };
  if (!pretty) return out === process.stdout ? pino(options) : pino(options, out as pino.DestinationStream);
  const color = (out as { isTTY?: boolean; hasColors?: () => boolean }).hasColors?.() ?? false;
  return pino(options, { write: (line: string) => void out.write(prettyLine(line, color)) });
}

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '90'],
  20: ['DEBUG', '36'],
  30: ['INFO ', '32'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '35'],
};
/** Fields every line carries that a person reading a terminal does not need. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** One pino JSON line as `HH:MM:SS.mmm LEVEL message  key=value …` (a line that is not JSON passes through). */
export function prettyLine(json: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json);
  } catch {
    return json;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const [label, code] = LEVELS[entry.level as number] ?? [String(entry.level).toUpperCase().padEnd(5), '0'];
  const level = color ? `\u001b[${code}m${label}\u001b[0m` : label;
  const fields = Object.entries(entry)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`);
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  return `${time} ${level} ${msg}${fields.length ? '  ' + fields.join(' ') : ''}\n`;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v && typeof v === 'object' && 'stack' in v && typeof (v as { stack: unknown }).stack === 'string') {
    return '\n    ' + (v as { stack: string }).stack.split('\n').join('\n    ');
  }
  return JSON.stringify(v);
}

/** Plugins get (msg, fields) loggers; pino takes (fields, msg). */
export function pluginLogger(log: Logger): PluginLogger {
  return {
    debug: (m, f) => log.debug(f ?? {}, m),
    info: (m, f) => log.info(f ?? {}, m),
    warn: (m, f) => log.warn(f ?? {}, m),
    error: (m, f) => log.error(f ?? {}, m),
  };
}
