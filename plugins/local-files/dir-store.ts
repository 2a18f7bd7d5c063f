/**
 * `FileStore` over a local directory: files appear atomically (written to a temporary name, fsynced, renamed).
 * With `confineTo`, every folder a file is written in or deleted from must really (symbolic links resolved) lie
 * inside that folder: a link created after the destination was checked cannot redirect writes or deletions.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DestinationError } from '../../src/sdk';
import type { FileSink, FileStore } from '../../src/sdk/files';

function isMissing(err: unknown): boolean {
  return (err as { code?: string })?.code === 'ENOENT';
}

export class DirectoryStore implements FileStore {
  readonly root: string;
  private readonly confineTo?: string;

  /** `confineTo` must be a real path (no symbolic links in it). */
  constructor(root: string, options: { confineTo?: string } = {}) {
    this.root = path.resolve(root);
    this.confineTo = options.confineTo;
  }

  private refuseOutside(real: string, shown: string): void {
    if (!this.confineTo) return;
    const rel = path.relative(this.confineTo, real);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new DestinationError('config', `path leads outside your team's folder through a symbolic link (${shown}); remove the link or set path to a folder inside your team's folder.`, { code: 'PATH_OUTSIDE_TEAM_FOLDER' });
    }
  }

  /** The folder of `full`, created; refused (before anything is created) when a link leads it outside `confineTo`. */
  private async confinedFolderFor(full: string): Promise<void> {
    const folder = path.dirname(full);
    if (this.confineTo) {
      let existing = folder;
      for (;;) {
        try {
          this.refuseOutside(await fs.realpath(existing), folder);
          break;
        } catch (err) {
          if (!isMissing(err) || existing === this.root) throw err;
          existing = path.dirname(existing);
        }
      }
    }
    await fs.mkdir(folder, { recursive: true });
    if (this.confineTo) this.refuseOutside(await fs.realpath(folder), folder);
  }

  /** False when the folder of `full` does not exist; throws when a link leads it outside `confineTo`. */
  private async folderExistsConfined(full: string): Promise<boolean> {
    if (!this.confineTo) return true;
    try {
      this.refuseOutside(await fs.realpath(path.dirname(full)), path.dirname(full));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  /** Maps a `/`-separated key to a path inside the root; keys that would escape it are refused. */
  pathOf(key: string): string {
    const full = path.resolve(this.root, ...key.split('/'));
    if (full !== this.root && !full.startsWith(this.root + path.sep)) throw new Error(`key escapes the directory: ${key}`);
    return full;
  }

  private tempPathOf(full: string): string {
    // The suffix keeps the run's name in front, so a crashed attempt's temp files are found and removed by the next.
    return `${full}.${randomBytes(6).toString('hex')}.tmp`;
  }

  async create(key: string): Promise<FileSink> {
    const full = this.pathOf(key);
    await this.confinedFolderFor(full);
    const temp = this.tempPathOf(full);
    const handle = await fs.open(temp, 'w');
    let closed = false;
    return {
      write: async (chunk) => {
        await handle.write(chunk);
      },
      close: async () => {
        await handle.datasync();
        await handle.close();
        closed = true;
        await fs.rename(temp, full);
      },
      abort: async () => {
        if (!closed) await handle.close().catch(() => undefined);
        await fs.rm(temp, { force: true }).catch(() => undefined);
      },
    };
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const full = this.pathOf(key);
    await this.confinedFolderFor(full);
    const temp = this.tempPathOf(full);
    try {
      const handle = await fs.open(temp, 'w');
      try {
        await handle.writeFile(body);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, full);
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash === -1 ? '' : prefix.slice(0, slash);
    const out: string[] = [];
    const walk = async (key: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(this.pathOf(key), { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      for (const e of entries) {
        const child = key ? `${key}/${e.name}` : e.name;
        if (e.isDirectory()) {
          if (prefix.startsWith(child + '/') || (child + '/').startsWith(prefix) || child.startsWith(prefix)) await walk(child);
        } else if (child.startsWith(prefix)) {
          out.push(child);
        }
      }
    };
    await walk(dirKey);
    return out.sort();
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) {
      const full = this.pathOf(key);
      if (await this.folderExistsConfined(full)) await fs.rm(full, { force: true });
    }
  }
}
