/** `FileStore` over an S3 bucket: files are streamed as multipart uploads (at most `queueSize` + 1 parts in memory). */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  ListObjectsV2Command, PutObjectCommand, UploadPartCommand, type CompleteMultipartUploadCommandInput, type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BufferPool } from '../../src/sdk';
import type { FileSink, FileStore } from '../../src/sdk/files';

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  partSizeBytes: number;
  queueSize: number;
  /** Server-side encryption headers sent with every object written. */
  encryption: Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'>;
  signal?: AbortSignal;
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.json')) return 'application/json';
  if (key.includes('.jsonl')) return 'application/x-ndjson';
  if (key.endsWith('.parquet')) return 'application/vnd.apache.parquet';
  return 'application/octet-stream';
}

export class S3Store implements FileStore {
  private get send() {
    return { abortSignal: this.o.signal };
  }

  /** Part buffers, reused by every file of the run (the run's files are written one at a time). */
  private readonly parts: BufferPool;

  constructor(private readonly o: S3StoreOptions) {
    // One part fills while `queueSize` upload: the most that is ever in memory.
    this.parts = new BufferPool(o.queueSize + 1, o.partSizeBytes);
  }

  /** Part buffers allocated so far (at most multipart_concurrency + 1, whatever the file sizes). */
  get partBuffersAllocated(): number {
    return this.parts.allocated;
  }

  /** The file being written: a run writes its files one after another, which is what bounds the part buffers. */
  private writing?: MultipartFile;

  async create(key: string): Promise<FileSink> {
    if (this.writing && !this.writing.ended) {
      throw new Error(`S3Store writes one file at a time: ${key} was started while ${this.writing.key} is still open`);
    }
    this.writing = new MultipartFile(this.o, this.parts, key, contentTypeOf(key));
    return this.writing;
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.o.client.send(
      new PutObjectCommand({ Bucket: this.o.bucket, Key: key, Body: body, ContentType: contentType, ...this.o.encryption }),
      this.send,
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const r = await this.o.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key: key }), this.send);
      return r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.o.client.send(
        new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: prefix || undefined, ContinuationToken: token }),
        this.send,
      );
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  /** One DeleteObject per key: multi-object delete is missing on some S3-compatible servers (GCS interop). */
  async delete(keys: string[]): Promise<void> {
    const queue = [...keys];
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        await this.o.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key: key }), this.send);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
  }
}

/**
 * One file: bytes are copied once into a part buffer; a full buffer is uploaded as a part while the next fills, at
 * most `queueSize` parts uploading (the writer waits for one to finish: back-pressure). A file smaller than one part
 * is a single PUT. No other copy of the bytes is made, and none is left for the garbage collector, so memory stays
 * at (queueSize + 1) x part size (the SDK's Upload concatenated parts, held the remainder's source and kept 2-3
 * times that in garbage).
 */
class MultipartFile implements FileSink {
  private buf?: Buffer;
  private filled = 0;
  private uploadId?: string;
  private nextPart = 1;
  private readonly uploading = new Set<Promise<void>>();
  private readonly done: CompletedPart[] = [];
  private failure: unknown;
  /** Closed or aborted. */
  ended = false;
  private readonly onAbort = () => void this.abort(this.o.signal?.reason);

  constructor(
    private readonly o: S3StoreOptions,
    private readonly parts: BufferPool,
    readonly key: string,
    private readonly contentType: string,
  ) {
    this.o.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private get send() {
    return { abortSignal: this.o.signal };
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let from = 0; from < chunk.byteLength; ) {
      this.throwIfFailed();
      this.buf ??= await this.parts.acquire();
      const n = Math.min(chunk.byteLength - from, this.buf.length - this.filled);
      this.buf.set(chunk.subarray(from, from + n), this.filled);
      this.filled += n;
      from += n;
      if (this.filled === this.buf.length) await this.uploadPart();
    }
  }

  async close(): Promise<void> {
    try {
      this.throwIfFailed();
      if (this.uploadId === undefined) {
        const body = this.buf ? this.buf.subarray(0, this.filled) : new Uint8Array();
        await this.o.client.send(
          new PutObjectCommand({ Bucket: this.o.bucket, Key: this.key, Body: body, ContentType: this.contentType, ...this.o.encryption }),
          this.send,
        );
        this.releaseBuffer();
        return;
      }
      if (this.filled > 0) await this.uploadPart();
      else this.releaseBuffer();
      await Promise.all(this.uploading);
      this.throwIfFailed();
      await this.o.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.o.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: [...this.done].sort((a, b) => a.PartNumber - b.PartNumber) },
        }),
        this.send,
      );
    } catch (err) {
      await this.abort(err);
      throw this.failure ?? err;
    } finally {
      this.o.signal?.removeEventListener('abort', this.onAbort);
      this.ended = true;
    }
  }

  async abort(reason?: unknown): Promise<void> {
    this.failure ??= reason ?? new Error('the upload was aborted');
    this.ended = true;
    this.o.signal?.removeEventListener('abort', this.onAbort);
    await Promise.allSettled(this.uploading);
    this.releaseBuffer();
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    if (uploadId !== undefined) {
      await this.o.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.o.bucket, Key: this.key, UploadId: uploadId }))
        .catch(() => undefined);
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private releaseBuffer(): void {
    if (this.buf) this.parts.release(this.buf);
    this.buf = undefined;
    this.filled = 0;
  }

  /** Starts uploading the filled buffer as the next part, once fewer than `queueSize` parts are uploading. */
  private async uploadPart(): Promise<void> {
    if (this.uploadId === undefined) {
      const created = await this.o.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.o.bucket, Key: this.key, ContentType: this.contentType, ...this.o.encryption }),
        this.send,
      );
      if (!created.UploadId) throw new Error(`S3 answered CreateMultipartUpload for ${this.key} without an UploadId`);
      this.uploadId = created.UploadId;
    }
    while (this.uploading.size >= this.o.queueSize) await Promise.race(this.uploading);
    this.throwIfFailed();
    const buf = this.buf!;
    const body = buf.subarray(0, this.filled);
    const partNumber = this.nextPart++;
    this.buf = undefined;
    this.filled = 0;
    const uploading: Promise<void> = this.o.client
      .send(new UploadPartCommand({ Bucket: this.o.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: partNumber, Body: body }), this.send)
      .then(
        (r) => {
          if (!r.ETag) throw new Error(`S3 answered part ${partNumber} of ${this.key} without an ETag`);
          this.done.push({
            PartNumber: partNumber,
            ETag: r.ETag,
            ...(r.ChecksumCRC32 && { ChecksumCRC32: r.ChecksumCRC32 }),
            ...(r.ChecksumCRC32C && { ChecksumCRC32C: r.ChecksumCRC32C }),
            ...(r.ChecksumCRC64NVME && { ChecksumCRC64NVME: r.ChecksumCRC64NVME }),
            ...(r.ChecksumSHA1 && { ChecksumSHA1: r.ChecksumSHA1 }),
            ...(r.ChecksumSHA256 && { ChecksumSHA256: r.ChecksumSHA256 }),
          });
        },
        (err) => {
          this.failure ??= err;
        },
      )
      .finally(() => {
        this.uploading.delete(uploading);
        this.parts.release(buf);
      });
    this.uploading.add(uploading);
  }
}

type CompletedPart = NonNullable<NonNullable<CompleteMultipartUploadCommandInput['MultipartUpload']>['Parts']>[number] & { PartNumber: number };
