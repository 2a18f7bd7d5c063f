/**
 * Amazon S3 and S3-compatible stores (MinIO, Cloudflare R2, GCS interoperability): each run written as JSON Lines
 * or Parquet objects, streamed as multipart uploads, with a manifest written last.
 *
 * Exactly once per run: object keys come from the interval, so a retry overwrites; objects of the interval that
 * the retry did not write are deleted before the manifest is written. Persons and sessions land as per-interval
 * snapshots; readers keep, per key, the row with the greatest version columns.
 */
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { connectionStep, defineDestination, MODELS, type RunContext } from '../../src/sdk';
import { checkFileOutput, fileOutputFields, wireFormatOf, writeConfiguredEncodedRun, writeConfiguredRun } from '../../src/sdk/files';
import { classifyS3Error } from './errors';
import { S3Store } from './s3-store';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.\-_]{1,253}[a-z0-9]$/;

export const s3ConfigSchema = z
  .object({
    bucket_name: z.string().regex(BUCKET_NAME, 'a bucket name: lower-case letters, digits, dots and hyphens, 3 to 255 characters')
      .describe('Name of the bucket the files are written to. It must exist.'),
    region: z.string().min(1).default('us-east-1')
      .describe('Region of the bucket (e.g. us-east-1). S3-compatible servers usually accept any value; R2 uses "auto".'),
    ...fileOutputFields(),
    aws_access_key_id: z.string().default('')
      .describe('Access key id. Leave empty (with the secret) to use the server\'s default AWS credentials: environment variables, shared config, or the instance/task role.'),
    aws_secret_access_key: z.string().default('')
      .describe('Secret access key for aws_access_key_id. Stored encrypted, never returned.'),
    endpoint_url: z.string().default('')
      .describe('Endpoint of an S3-compatible server, e.g. http://minio:9000, https://<account>.r2.cloudflarestorage.com or https://storage.googleapis.com. Empty for AWS S3.'),
    force_path_style: z.boolean().default(false)
      .describe('Address buckets as endpoint/bucket instead of bucket.endpoint. Needed by most MinIO set-ups.'),
    encryption: z.enum(['none', 'AES256', 'aws:kms']).default('none')
      .describe('Server-side encryption requested for every object: none (the bucket default applies), AES256 (SSE-S3) or aws:kms (SSE-KMS).'),
    kms_key_id: z.string().default('')
      .describe('KMS key id or ARN, with encryption aws:kms. Empty uses the account\'s AWS-managed key.'),
    request_checksum_calculation: z.enum(['WHEN_REQUIRED', 'WHEN_SUPPORTED']).default('WHEN_REQUIRED')
      .describe('When the client adds request checksums. WHEN_REQUIRED (default) works with S3-compatible servers that reject or mangle streamed (aws-chunked) checksums; WHEN_SUPPORTED adds CRC32 checksums to every upload on AWS.'),
    multipart_part_size_mb: z.number().int().min(5).max(5120).default(8)
      .describe('Size of each multipart upload part in MB (5 to 5120). Memory held while a run writes is part size x (multipart_concurrency + 1): one part fills while the others upload. A file has at most 10,000 parts: 80 GB at the default 8 MB; split larger runs with max_file_size_mb or raise this.'),
    multipart_concurrency: z.number().int().min(1).max(16).default(2)
      .describe('Parts uploaded at once per file. Default 2: the files arrive compressed by ClickHouse, far slower than two parts upload, and each part in flight is held in the worker\'s memory; raise it for very fast links.'),
  })
  .superRefine((cfg, ctx) => {
    checkFileOutput(cfg, ctx);
    if (!cfg.aws_access_key_id !== !cfg.aws_secret_access_key) {
      ctx.addIssue({ code: 'custom', path: [cfg.aws_access_key_id ? 'aws_secret_access_key' : 'aws_access_key_id'], message: 'set both aws_access_key_id and aws_secret_access_key, or neither (default AWS credentials)' });
    }
    if (cfg.endpoint_url) {
      let ok = false;
      try {
        ok = ['http:', 'https:'].includes(new URL(cfg.endpoint_url).protocol);
      } catch {
        ok = false;
      }
      if (!ok) ctx.addIssue({ code: 'custom', path: ['endpoint_url'], message: 'endpoint_url must be an http:// or https:// URL' });
    }
    if (cfg.kms_key_id && cfg.encryption !== 'aws:kms') {
      ctx.addIssue({ code: 'custom', path: ['kms_key_id'], message: 'kms_key_id needs encryption aws:kms' });
    }
  });

export type S3Config = z.infer<typeof s3ConfigSchema>;

/** The S3 client for a config. Exported for tests and for tools that read the files back. */
export function createS3Client(config: S3Config): S3Client {
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint_url || undefined,
    forcePathStyle: config.force_path_style,
    credentials: config.aws_access_key_id
      ? { accessKeyId: config.aws_access_key_id, secretAccessKey: config.aws_secret_access_key }
      : undefined,
    requestChecksumCalculation: config.request_checksum_calculation,
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
  });
}

export function encryptionParams(config: S3Config) {
  if (config.encryption === 'none') return {};
  return {
    ServerSideEncryption: config.encryption,
    ...(config.encryption === 'aws:kms' && config.kms_key_id ? { SSEKMSKeyId: config.kms_key_id } : {}),
  } as const;
}

async function withStore<T>(config: S3Config, ctx: RunContext, use: (store: S3Store) => Promise<T>): Promise<T> {
  const client = createS3Client(config);
  const store = new S3Store({
    client,
    bucket: config.bucket_name,
    partSizeBytes: config.multipart_part_size_mb * 1024 * 1024,
    queueSize: config.multipart_concurrency,
    encryption: encryptionParams(config),
    signal: ctx.signal,
  });
  try {
    return await use(store);
  } catch (err) {
    throw classifyS3Error(err);
  } finally {
    client.destroy();
  }
}

export default defineDestination<S3Config>({
  id: 's3',
  displayName: 'Amazon S3 (and S3-compatible)',
  description: 'Writes each run as JSON Lines or Parquet objects in an S3 bucket (AWS, MinIO, R2, GCS interoperability), with a manifest listing them.',
  configSchema: s3ConfigSchema as unknown as z.ZodType<S3Config>,
  secretFields: ['aws_secret_access_key'],
  models: MODELS,
  capabilities: { formats: ['JSONLines', 'Parquet'], wireFormats: ['jsonl', 'parquet'], merge: false, suggestedConcurrency: 4 },

  async testConnection(config, ctx) {
    const client = createS3Client(config);
    try {
      // HeadBucket reaches the endpoint, signs in and needs access to the bucket in one request.
      await connectionStep(ctx, 'permissions', async () => {
        try {
          await client.send(new HeadBucketCommand({ Bucket: config.bucket_name }), { abortSignal: ctx.signal });
        } catch (err) {
          throw classifyS3Error(err);
        }
      }, `Bucket ${config.bucket_name} exists and the credentials can reach it.`);
    } finally {
      client.destroy();
    }
  },

  async write(config, ctx, batches) {
    return withStore(config, ctx, (store) => writeConfiguredRun(store, config, ctx, batches, { bucket: config.bucket_name }));
  },

  // The byte path (the default on this destination): ClickHouse writes the files' bytes, streamed into the uploads.
  wireFormat: (config) => wireFormatOf(config),

  async writeEncoded(config, ctx, encoded) {
    return withStore(config, ctx, (store) => writeConfiguredEncodedRun(store, config, ctx, encoded, { bucket: config.bucket_name }));
  },

  classifyError: classifyS3Error,
});
