/**
 * Rows -> gzip-compressed JSON Lines part files of bounded size in a temp directory, handed over one by one as
 * they fill up (so at most one part lives on disk while the run streams, and nothing is held in memory).
 */
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Row } from '../../src/sdk';

export interface Part {
  file: string;
  rows: number;
  bytes: number;
}

export class PartWriter {
  private gz?: zlib.Gzip;
  private out?: fs.WriteStream;
  private current?: Part;
  private rawBytes = 0;
  private seq = 0;

  constructor(
    private readonly dir: string,
    /** Uncompressed bytes per part before rotating. */
    private readonly maxPartBytes: number,
    private readonly onPart: (part: Part) => Promise<void>,
  ) {}

  async write(row: Row): Promise<void> {
    if (!this.gz) this.open();
    const line = JSON.stringify(row) + '\n';
    this.current!.rows++;
    this.rawBytes += Buffer.byteLength(line);
    if (!this.gz!.write(line)) await once(this.gz!, 'drain');
    if (this.rawBytes >= this.maxPartBytes) await this.rotate();
  }

  /** Closes the open part (if any) and hands it over. */
  async finish(): Promise<void> {
    await this.rotate();
  }

  /** Releases an unfinished part after a failure (the caller removes the directory). */
  abort(): void {
    this.gz?.destroy();
    this.out?.destroy();
    this.gz = this.out = this.current = undefined;
  }

  private open(): void {
    this.seq++;
    const file = path.join(this.dir, `part-${String(this.seq).padStart(5, '0')}.jsonl.gz`);
    this.gz = zlib.createGzip({ level: 6 });
    this.out = fs.createWriteStream(file);
    this.gz.pipe(this.out);
    this.current = { file, rows: 0, bytes: 0 };
    this.rawBytes = 0;
  }

  private async rotate(): Promise<void> {
    if (!this.gz || !this.out || !this.current) return;
    const part = this.current;
    const done = once(this.out, 'close');
    this.gz.end();
    await done;
    part.bytes = fs.statSync(part.file).size;
    this.gz = this.out = this.current = undefined;
    try {
      await this.onPart(part);
    } finally {
      fs.rmSync(part.file, { force: true });
    }
  }
}
