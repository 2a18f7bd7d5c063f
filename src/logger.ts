import pino from 'pino';
import type { PluginLogger } from './sdk';

export type Logger = pino.Logger;

export function createLogger(level: string, name = 'outport'): Logger {
  return pino({ name, level, redact: { paths: ['*.password', '*.secret', '*.token', '*.authorization', 'config.*'], censor: '[redacted]' } });
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
