/** Shared by the plugin host tests: a logger that remembers, and throwaway plugin packages on disk. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostLogger } from '../../src/plugins';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  fields?: Record<string, unknown>;
}

export function captureLogger(): HostLogger & { lines: LogLine[]; at(level: LogLine['level']): LogLine[] } {
  const lines: LogLine[] = [];
  const log = (level: LogLine['level']) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  return { lines, at: (level) => lines.filter((l) => l.level === level), info: log('info'), warn: log('warn'), error: log('error') };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `outport-${prefix}-`));
}

/** CommonJS source of a minimal valid plugin, as a compiled third-party package would ship it. */
export function pluginSource(id: string, extra = ''): string {
  return `
const { z } = require(${JSON.stringify(require.resolve('zod'))});
${extra}
module.exports = {
  id: ${JSON.stringify(id)},
  displayName: ${JSON.stringify(`Plugin ${id}`)},
  contractVersion: 1,
  configSchema: z.object({ endpoint: z.string(), token: z.string() }),
  secretFields: ['token'],
  models: ['events'],
  capabilities: { merge: false },
  async testConnection() {},
  async write() { return { rowsLanded: 0, bytesWritten: 0 }; },
};
`;
}

/** Writes `files` (relative path -> content) under `dir`, creating folders. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
}
