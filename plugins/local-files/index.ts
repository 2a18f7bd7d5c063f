/**
 * Local files: each run written as JSON Lines or Parquet files in a directory, with a manifest written last.
 * The default destination for a first run: nothing to set up but a path.
 *
 * File destinations deliver per-interval snapshots: a retried run replaces its own files; persons and sessions
 * are not merged in place, each interval's changed rows land in that interval's files and readers keep, per key,
 * the row with the greatest version columns (see `mergeLatestVersions` in `outport/sdk` files).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { classifyCommonError, defineDestination, DestinationError, isDestinationError, MODELS } from '../../src/sdk';
import { checkFileOutput, fileOutputFields, writeConfiguredRun } from '../../src/sdk/files';
import { DirectoryStore } from './dir-store';

export const localFilesConfigSchema = z
  .object({
    path: z.string().min(1).default('./outport-exports')
      .describe('Directory the files are written to (created if missing). A relative path is resolved against the server\'s working directory.'),
    ...fileOutputFields(),
  })
  .superRefine(checkFileOutput);

export type LocalFilesConfig = z.infer<typeof localFilesConfigSchema>;

const CONFIG_CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'a file name is taken by a directory',
};

function classifyLocalError(err: unknown): DestinationError {
  if (isDestinationError(err)) return err;
  const code = (err as { code?: string })?.code;
  if (code && CONFIG_CODES[code]) {
    return new DestinationError('config', `Cannot write to the directory (${code}: ${CONFIG_CODES[code]}): ${(err as Error).message}. Check the path setting and its permissions.`, { cause: err, code });
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new DestinationError('retryable', `The disk is full (${code}): ${(err as Error).message}`, { cause: err, code });
  }
  return classifyCommonError(err);
}

export default defineDestination<LocalFilesConfig>({
  id: 'local-files',
  displayName: 'Local files',
  description: 'Writes each run as JSON Lines or Parquet files in a local directory, with a manifest listing them.',
  configSchema: localFilesConfigSchema as unknown as z.ZodType<LocalFilesConfig>,
  secretFields: [],
  models: MODELS,
  capabilities: { formats: ['JSONLines', 'Parquet'], merge: false, suggestedConcurrency: 2 },

  async testConnection(config) {
    const dir = path.resolve(config.path);
    try {
      await fs.mkdir(dir, { recursive: true });
      const probe = path.join(dir, `.outport-probe-${process.pid}-${Date.now()}`);
      await fs.writeFile(probe, 'ok');
      await fs.rm(probe, { force: true });
    } catch (err) {
      throw classifyLocalError(err);
    }
  },

  async write(config, ctx, batches) {
    const store = new DirectoryStore(config.path);
    try {
      return await writeConfiguredRun(store, config, ctx, batches, { directory: store.root });
    } catch (err) {
      throw classifyLocalError(err);
    }
  },

  classifyError: classifyLocalError,
});
