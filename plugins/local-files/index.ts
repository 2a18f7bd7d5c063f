/**
 * Local files: each run written as JSON Lines or Parquet files in a directory, with a manifest written last.
 * The default destination for a first run: nothing to set up but a path.
 *
 * Confined to the team's folder: the host hands every call the folder this team may write in
 * (`ctx.localFilesDirectory`, the operator's OUTPORT_LOCAL_FILES_ROOT/team-<id>). `path` is resolved inside it;
 * `..` segments are refused by the schema, and an absolute path or a symbolic link leading outside is refused by
 * testConnection and by every write (a link can appear after the destination was tested), as a config error
 * naming `path`. The directory store re-checks each file's real folder as it writes or deletes.
 *
 * File destinations deliver per-interval snapshots: a retried run replaces its own files; persons and sessions
 * are not merged in place, each interval's changed rows land in that interval's files and readers keep, per key,
 * the row with the greatest version columns (see `mergeLatestVersions` in `outport/sdk` files).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { classifyCommonError, connectionStep, defineDestination, DestinationError, isDestinationError, MODELS, type ConnectionContext } from '../../src/sdk';
import { checkFileOutput, fileOutputFields, wireFormatOf, writeConfiguredEncodedRun, writeConfiguredRun } from '../../src/sdk/files';
import { DirectoryStore } from './dir-store';

export const localFilesConfigSchema = z
  .object({
    path: z.string().min(1).max(1024).default('.')
      .refine((p) => !p.split(/[\\/]/).includes('..'), "path must not contain '..' segments: it is a folder inside your team's folder")
      .refine((p) => !/[\u0000-\u001f]/.test(p), 'path must not contain control characters')
      .describe('Folder the files are written to, inside your team\'s folder on the server (the operator\'s OUTPORT_LOCAL_FILES_ROOT/team-<id>; "." is that folder itself). Created if missing. Relative paths are resolved against the team\'s folder; paths that lead outside it (.., absolute paths elsewhere, symbolic links) are refused.'),
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

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function outside(config: LocalFilesConfig, why: string): DestinationError {
  return new DestinationError('config', `path ${JSON.stringify(config.path)} ${why}; set path to a folder inside your team's folder (relative paths are resolved against it).`, { code: 'PATH_OUTSIDE_TEAM_FOLDER' });
}

/**
 * The destination's directory inside the team's folder, created, with the team folder's real path. Refuses a path
 * that leaves the folder by name or through a symbolic link (checked on the real path of the directory).
 */
async function confinedDirectory(config: LocalFilesConfig, ctx: ConnectionContext): Promise<{ dir: string; realTeamDir: string }> {
  if (!ctx.localFilesDirectory) {
    throw new DestinationError('config', 'This Outport server offers no folder for local files (its host passed no localFilesDirectory); use another destination type.', { code: 'NO_LOCAL_FILES_DIRECTORY' });
  }
  const teamDir = path.resolve(ctx.localFilesDirectory);
  const dir = path.resolve(teamDir, config.path);
  if (!isInside(teamDir, dir)) throw outside(config, 'is outside your team\'s folder');
  await fs.mkdir(teamDir, { recursive: true });
  const realTeamDir = await fs.realpath(teamDir);
  // Check the deepest part that exists before creating anything below it, so a link cannot make us create folders elsewhere.
  let existing = dir;
  for (;;) {
    try {
      existing = await fs.realpath(existing);
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT' || existing === teamDir) throw err;
      existing = path.dirname(existing);
    }
  }
  if (!isInside(realTeamDir, existing)) throw outside(config, 'leads outside your team\'s folder through a symbolic link');
  await fs.mkdir(dir, { recursive: true });
  if (!isInside(realTeamDir, await fs.realpath(dir))) throw outside(config, 'leads outside your team\'s folder through a symbolic link');
  return { dir, realTeamDir };
}

export default defineDestination<LocalFilesConfig>({
  id: 'local-files',
  displayName: 'Local files',
  description: 'Writes each run as JSON Lines or Parquet files in a local directory, with a manifest listing them.',
  configSchema: localFilesConfigSchema as unknown as z.ZodType<LocalFilesConfig>,
  secretFields: [],
  models: MODELS,
  capabilities: { formats: ['JSONLines', 'Parquet'], wireFormats: ['jsonl', 'parquet'], merge: false, suggestedConcurrency: 2 },

  async testConnection(config, ctx) {
    const classified = <T>(fn: () => Promise<T>) => fn().catch((err) => Promise.reject(classifyLocalError(err)));
    const { dir } = await connectionStep(ctx, 'permissions', () => classified(() => confinedDirectory(config, ctx)), `The folder ${config.path} is inside your team's folder and can be created.`);
    await connectionStep(ctx, 'write_probe', () => classified(async () => {
      const probe = path.join(dir, `.outport-probe-${process.pid}-${Date.now()}`);
      await fs.writeFile(probe, 'ok');
      await fs.rm(probe, { force: true });
    }), 'Wrote a probe file in the folder and removed it.');
  },

  async write(config, ctx, batches) {
    try {
      const { dir, realTeamDir } = await confinedDirectory(config, ctx);
      const store = new DirectoryStore(dir, { confineTo: realTeamDir });
      return await writeConfiguredRun(store, config, ctx, batches, { directory: store.root });
    } catch (err) {
      throw classifyLocalError(err);
    }
  },

  // The byte path (the default on this destination): ClickHouse writes the files' bytes, streamed to disk.
  wireFormat: (config) => wireFormatOf(config),

  async writeEncoded(config, ctx, encoded) {
    try {
      const { dir, realTeamDir } = await confinedDirectory(config, ctx);
      const store = new DirectoryStore(dir, { confineTo: realTeamDir });
      return await writeConfiguredEncodedRun(store, config, ctx, encoded, { directory: store.root });
    } catch (err) {
      throw classifyLocalError(err);
    }
  },

  classifyError: classifyLocalError,
});
