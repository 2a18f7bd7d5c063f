/**
 * copy mode: the run's rows as gzip JSON Lines files under a run-specific S3 prefix, for COPY to load.
 * Files are streamed (multipart uploads, bounded memory) and cut every FILE_MAX_BYTES of uncompressed JSON so
 * Redshift loads them in parallel. The prefix is emptied before (leftovers of a killed attempt) and after a run.
 */
import { once } from 'node:events';
import { PassThrough, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ModelSchema, RecordBatch, Row } from '../../src/sdk';
import type { RedshiftConfig } from './config';
import type { PropertiesType } from './sql';
import type { ValueRules } from './values';

/** Uncompressed bytes per file. */
export const FILE_MAX_BYTES = 128 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;

export function createS3Client(config: RedshiftConfig): S3Client {
  return new S3Client({
    region: config.s3_region || process.env.AWS_REGION || 'us-east-1',
    endpoint: config.s3_endpoint_url,
    forcePathStyle: Boolean(config.s3_endpoint_url),
    credentials: config.aws_access_key_id
      ? { accessKeyId: config.aws_access_key_id, secretAccessKey: config.aws_secret_access_key ?? '' }
      : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
  });
}

/** `<prefix>/outport-redshift/<stage table>/`: one folder per run, so COPY's prefix match takes only this run's files. */
export function runPrefix(configPrefix: string, stage: string): string {
  const base = configPrefix.replace(/^\/+|\/+$/g, '');
  return `${base ? base + '/' : ''}outport-redshift/${stage}/`;
}

/**
 * One JSON Lines line for COPY ... FORMAT JSON 'auto'. Values went through the value rules already.
 * varchar mode: JSON columns are JSON strings holding the document text (loaded as the text);
 * super mode: JSON columns are embedded documents (loaded as SUPER values).
 */
export function jsonLine(schema: ModelSchema, values: readonly (string | null)[], properties: PropertiesType): string {
  let line = '{';
  schema.columns.forEach((c, i) => {
    const v = values[i];
    let text: string;
    if (v === null) text = 'null';
    else if (c.type === 'json') text = properties === 'super' ? v.replace(/[\r\n]/g, ' ') : JSON.stringify(v);
    else if (c.type === 'int' || c.type === 'float' || c.type === 'bool') text = v;
    else text = JSON.stringify(v);
    line += (i ? ',' : '') + JSON.stringify(c.name) + ':' + text;
  });
  return line + '}\n';
}

export interface StagedFiles {
  keys: string[];
  rows: number;
  /** Compressed bytes uploaded. */
  bytes: number;
}

interface OpenFile {
  key: string;
  gzip: zlib.Gzip;
  done: Promise<unknown>;
  uncompressed: number;
}

export class S3Staging {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    readonly prefix: string,
    private readonly signal: AbortSignal,
    /** Uncompressed bytes per file (tests use small files to see the cut). */
    private readonly fileMaxBytes = FILE_MAX_BYTES,
  ) {}

  async list(signal: AbortSignal = this.signal): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }), { abortSignal: signal });
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** Deletes every object under the run's prefix. Returns how many there were. */
  async clear(signal: AbortSignal = this.signal): Promise<number> {
    const keys = await this.list(signal);
    // One DeleteObject per key: multi-object delete is missing on some S3-compatible servers.
    for (const key of keys) await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    return keys.length;
  }

  /** Releases the client's sockets. */
  destroy(): void {
    this.s3.destroy();
  }

  /** Uploads the run as gzip JSON Lines files; `encode` turns a row into its values after the value rules. */
  async upload(
    schema: ModelSchema,
    batches: AsyncIterable<RecordBatch>,
    rules: ValueRules,
    properties: PropertiesType,
    onBatch: (rows: number) => void,
  ): Promise<StagedFiles> {
    const result: StagedFiles = { keys: [], rows: 0, bytes: 0 };
    let file: OpenFile | undefined;
    const encode = (row: Row) => schema.columns.map((c) => rules.apply(c, row[c.name]));
    try {
      for await (const batch of batches) {
        this.signal.throwIfAborted();
        if (batch.rows.length === 0) continue;
        let text = '';
        for (const row of batch.rows) text += jsonLine(schema, encode(row), properties);
        const buf = Buffer.from(text, 'utf8');
        if (file && file.uncompressed + buf.length > this.fileMaxBytes) {
          await this.close(file);
          file = undefined;
        }
        file ??= this.open(result);
        file.uncompressed += buf.length;
        if (!file.gzip.write(buf)) await Promise.race([once(file.gzip, 'drain'), file.done]);
        result.rows += batch.rows.length;
        onBatch(batch.rows.length);
      }
      if (file) await this.close(file);
      file = undefined;
    } catch (err) {
      if (file) {
        file.gzip.destroy();
        await file.done.catch(() => undefined);
      }
      throw err;
    }
    return result;
  }

  /**
   * The byte path: uploads JSON Lines as they arrive (ClickHouse wrote them, one row per line), gzipped, cut into
   * files like `upload` at line boundaries so that no file passes `fileMaxBytes` uncompressed (unless one line alone
   * is longer). `onRows` gets the rows of each chunk's complete lines.
   */
  async uploadLines(chunks: AsyncIterable<Uint8Array>, onRows: (rows: number) => void): Promise<StagedFiles> {
    const result: StagedFiles = { keys: [], rows: 0, bytes: 0 };
    let file: OpenFile | undefined;
    /** Whether what the open file holds ends with a whole line (a file may only be closed then). */
    let atLineEnd = true;
    const write = async (bytes: Buffer) => {
      if (bytes.length === 0) return;
      file ??= this.open(result);
      file.uncompressed += bytes.length;
      atLineEnd = bytes[bytes.length - 1] === 10;
      if (!file.gzip.write(bytes)) await Promise.race([once(file.gzip, 'drain'), file.done]);
    };
    try {
      for await (const chunk of chunks) {
        this.signal.throwIfAborted();
        let bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        let lines = 0;
        for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, nl + 1)) lines++;
        while (bytes.length > 0) {
          const room = this.fileMaxBytes - (file?.uncompressed ?? 0);
          if (bytes.length <= room) {
            await write(bytes);
            break;
          }
          // Cut at the last line end that fits; or close a file that ends with a whole line; or finish the line it is in.
          const cut = room > 0 ? bytes.lastIndexOf(10, room - 1) : -1;
          const end = cut !== -1 ? cut + 1 : !file || atLineEnd ? 0 : bytes.indexOf(10) + 1 || bytes.length;
          await write(bytes.subarray(0, end));
          if (file && atLineEnd) {
            await this.close(file);
            file = undefined;
          }
          bytes = bytes.subarray(end);
          if (end === 0 && !file) {
            await write(bytes.subarray(0, Math.min(bytes.length, this.fileMaxBytes)));
            bytes = bytes.subarray(Math.min(bytes.length, this.fileMaxBytes));
          }
        }
        result.rows += lines;
        onRows(lines);
      }
      if (!atLineEnd) throw new Error('the JSON Lines stream from ClickHouse ended in the middle of a line');
      if (file) await this.close(file);
      file = undefined;
    } catch (err) {
      if (file) {
        file.gzip.destroy();
        await (file as OpenFile).done.catch(() => undefined);
      }
      throw err;
    }
    return result;
  }

  private open(result: StagedFiles): OpenFile {
    const key = `${this.prefix}part-${String(result.keys.length).padStart(5, '0')}.jsonl.gz`;
    result.keys.push(key);
    const gzip = zlib.createGzip({ level: 6 });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        result.bytes += chunk.length;
        cb(null, chunk);
      },
    });
    const body = new PassThrough();
    gzip.pipe(counter).pipe(body);
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort().catch(() => undefined);
    this.signal.addEventListener('abort', onAbort, { once: true });
    const done = upload.done().finally(() => this.signal.removeEventListener('abort', onAbort));
    done.catch(() => gzip.destroy());
    return { key, gzip, done, uncompressed: 0 };
  }

  private async close(file: OpenFile): Promise<void> {
    file.gzip.end();
    await file.done;
  }
}
