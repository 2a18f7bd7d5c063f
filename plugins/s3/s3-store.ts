/** `FileStore` over an S3 bucket: files are streamed as multipart uploads (at most `queueSize` parts in memory). */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type PutObjectCommandInput, type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
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
  constructor(private readonly o: S3StoreOptions) {}

  private get send() {
    return { abortSignal: this.o.signal };
  }

  async create(key: string): Promise<FileSink> {
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    const upload = new Upload({
      client: this.o.client,
      params: { Bucket: this.o.bucket, Key: key, Body: body, ContentType: contentTypeOf(key), ...this.o.encryption },
      partSize: this.o.partSizeBytes,
      queueSize: this.o.queueSize,
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort().catch(() => undefined);
    this.o.signal?.addEventListener('abort', onAbort, { once: true });
    const done = upload.done();
    // Observed by write()/close(); an unobserved rejection here must not crash the process.
    let failure: unknown;
    done.catch((err) => {
      failure = err;
      body.destroy();
    });
    const settle = () => this.o.signal?.removeEventListener('abort', onAbort);
    return {
      write: async (chunk) => {
        if (failure) throw failure;
        if (!body.write(chunk)) {
          await Promise.race([once(body, 'drain'), done.then(() => undefined)]).catch((err) => {
            throw failure ?? err;
          });
          if (failure) throw failure;
        }
      },
      close: async () => {
        body.end();
        try {
          await done;
        } finally {
          settle();
        }
      },
      abort: async () => {
        settle();
        await upload.abort().catch(() => undefined);
        body.destroy();
        await done.catch(() => undefined);
      },
    };
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
