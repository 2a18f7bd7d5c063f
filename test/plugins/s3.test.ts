import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EVENTS_SCHEMA, type RecordBatch, type Row } from '../../src/sdk';
import { eventRows } from '../../src/sdk/conformance';
import { collectingLogger } from '../../src/sdk/conformance/run';
import { parquetFileInfo, readModelRows, type RunManifest } from '../../src/sdk/files';
import plugin, { type S3Config } from '../../plugins/s3';
import { classifyS3Error } from '../../plugins/s3/errors';
import localFiles from '../../plugins/local-files';
import { DirectoryStore } from '../../plugins/local-files/dir-store';
import { closedPort, freshS3Config, storeFor, testS3 } from '../conformance/fixtures/s3';

const interval = { start: new Date('2024-03-01T10:00:00Z'), end: new Date('2024-03-01T11:00:00Z') };
const RUN = '20240301T100000Z-20240301T110000Z';

function ctx() {
  return {
    runId: 'run-1', exportId: 'exp-1', teamId: 9, model: 'events' as const, schema: EVENTS_SCHEMA, interval, attempt: 1,
    isBackfill: false, signal: new AbortController().signal, logger: collectingLogger(), progress: () => undefined,
  };
}

async function* batches(rows: Row[], size = 50): AsyncGenerator<RecordBatch> {
  for (let i = 0; i < rows.length; i += size) yield { rows: rows.slice(i, i + size), sizeBytes: 0 };
}

/** An HTTP proxy in front of the S3 server that records each request's method, URL and headers. */
async function recordingProxy(target: string): Promise<{ url: string; requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[]; close(): Promise<void> }> {
  const requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Writes the same rows through local-files and returns the bytes of each file, by file name. */
async function localBytes(config: Partial<S3Config>, rows: Row[]): Promise<Map<string, Buffer>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-s3cmp-'));
  try {
    const lf = localFiles.configSchema.parse({ path: '.', prefix: config.prefix, file_format: config.file_format, compression: config.compression, max_file_size_mb: config.max_file_size_mb });
    const result = await localFiles.write(lf, { ...ctx(), localFilesDirectory: root }, batches(rows));
    return new Map((result.details!.files as string[]).map((k) => [k, fs.readFileSync(path.join(root, k))]));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const rows = eventRows(interval, 0, 300);

describe('s3 destination', () => {
  it.each([
    ['JSONLines', 'none'], ['JSONLines', 'gzip'], ['Parquet', 'zstd'],
  ] as const)('stores %s/%s objects byte for byte, split by size, with a manifest', async (file_format, compression) => {
    const config = await freshS3Config({ prefix: '{table}/{year}', file_format, compression, max_file_size_mb: compression === 'gzip' ? 0.005 : 0.02 });
    const result = await plugin.write(config, ctx(), batches(rows));
    const expected = await localBytes(config, rows);
    const { store, close } = storeFor(config);
    try {
      const keys = await store.list('');
      const dir = 'events/2024/export_id=exp-1';
      expect(keys).toEqual([...expected.keys(), `${dir}/${RUN}_attempt.json`, `${dir}/${RUN}_manifest.json`].sort());
      for (const [key, bytes] of expected) expect(Buffer.from((await store.get(key))!).equals(bytes)).toBe(true);
      const manifest = JSON.parse(Buffer.from((await store.get(`${dir}/${RUN}_manifest.json`))!).toString()) as RunManifest;
      expect(manifest.rows).toBe(300);
      expect(result.rowsLanded).toBe(300);
      if (file_format === 'Parquet') {
        const info = await parquetFileInfo((await store.get(manifest.files[0].key))!);
        expect(new Set(info.compression)).toEqual(new Set(['ZSTD']));
      } else {
        expect(expected.size).toBeGreaterThan(1);
      }
      expect(await readModelRows(store, '', EVENTS_SCHEMA)).toHaveLength(300);
    } finally {
      close();
    }
  });

  it('streams a large file as a multipart upload that reads back byte for byte, with SSE-KMS headers on every write', async () => {
    const s3 = testS3();
    const proxy = await recordingProxy(s3.endpoint);
    try {
      const config = await freshS3Config({ prefix: '{table}', file_format: 'JSONLines', compression: 'none', encryption: 'aws:kms', kms_key_id: 'alias/outport-test', multipart_part_size_mb: 5, multipart_concurrency: 2 });
      const proxied = { ...config, endpoint_url: proxy.url };
      // ~9 MB of JSON Lines: two 5 MB parts.
      const big = eventRows(interval, 0, 1200);
      await plugin.write(proxied, ctx(), batches(big, 100));
      const writes = proxy.requests.filter((r) => (r.method === 'PUT' && !r.url.includes('partNumber=')) || (r.method === 'POST' && r.url.includes('uploads')));
      const parts = proxy.requests.filter((r) => r.method === 'PUT' && r.url.includes('partNumber='));
      expect(parts.length).toBeGreaterThanOrEqual(2);
      expect(writes.length).toBeGreaterThanOrEqual(2); // CreateMultipartUpload + the manifest PUT
      for (const w of writes) {
        expect({ url: w.url, sse: w.headers['x-amz-server-side-encryption'], key: w.headers['x-amz-server-side-encryption-aws-kms-key-id'] })
          .toEqual({ url: w.url, sse: 'aws:kms', key: 'alias/outport-test' });
      }
      const expected = await localBytes(config, big);
      const { store, close } = storeFor(config);
      try {
        for (const [key, bytes] of expected) {
          expect(bytes.byteLength).toBeGreaterThan(6 * 1024 * 1024);
          expect(Buffer.from((await store.get(key))!).equals(bytes)).toBe(true);
        }
      } finally {
        close();
      }
    } finally {
      await proxy.close();
    }
  });

  it('reports a missing bucket and an unknown access key as config errors naming the setting', async () => {
    const config = await freshS3Config();
    const conn = { signal: new AbortController().signal, logger: collectingLogger() };
    const missing = { ...config, bucket_name: `${config.bucket_name}-missing` };
    const e1 = await plugin.testConnection(missing, conn).catch((e) => e);
    expect(e1).toMatchObject({ kind: 'config' });
    expect(e1.message).toMatch(/bucket_name/);
    const e2 = await plugin.write(missing, ctx(), batches(rows.slice(0, 5))).catch((e) => e);
    expect(e2).toMatchObject({ kind: 'config', code: 'NoSuchBucket' });
    const e3 = await plugin.write({ ...config, aws_access_key_id: 'AKIA-UNKNOWN' }, ctx(), batches(rows.slice(0, 5))).catch((e) => e);
    expect(e3).toMatchObject({ kind: 'config', code: 'InvalidAccessKeyId' });
    expect(e3.message).toMatch(/aws_access_key_id/);
  });

  it('reports a wrong secret key (SignatureDoesNotMatch, as AWS answers it) as a config error', async () => {
    // s3rver does not verify SigV4 signatures, so this server answers the way S3 does to a wrong secret.
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/xml', 'x-amz-request-id': 'TEST' });
      res.end(req.method === 'HEAD' ? undefined : '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message><RequestId>TEST</RequestId></Error>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const config = plugin.configSchema.parse({ bucket_name: 'some-bucket', endpoint_url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, force_path_style: true, aws_access_key_id: 'AKIA', aws_secret_access_key: 'wrong' });
      const err = await plugin.write(config, ctx(), batches(rows.slice(0, 5))).catch((e) => e);
      expect(err).toMatchObject({ kind: 'config', code: 'SignatureDoesNotMatch' });
      expect(err.message).toMatch(/aws_secret_access_key/);
      const conn = await plugin.testConnection(config, { signal: new AbortController().signal, logger: collectingLogger() }).catch((e) => e);
      expect(conn).toMatchObject({ kind: 'config' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('treats a closed port as retryable', async () => {
    const config = await freshS3Config();
    const err = await plugin.write({ ...config, endpoint_url: `http://127.0.0.1:${await closedPort()}` }, ctx(), batches(rows.slice(0, 5))).catch((e) => e);
    expect(err).toMatchObject({ kind: 'retryable' });
  });

  it('classifies S3 answers by code, then by status', () => {
    const s3err = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    expect(classifyS3Error(s3err('SlowDown', 503)).kind).toBe('retryable');
    expect(classifyS3Error(s3err('InternalError', 500)).kind).toBe('retryable');
    expect(classifyS3Error(s3err('Whatever', 502)).kind).toBe('retryable');
    expect(classifyS3Error(s3err('AccessDenied', 403)).kind).toBe('config');
    expect(classifyS3Error(s3err('PermanentRedirect', 301)).message).toMatch(/region/);
    expect(classifyS3Error(s3err('KMS.NotFoundException', 400)).message).toMatch(/kms_key_id/);
    expect(classifyS3Error(s3err('InvalidArgument', 400)).kind).toBe('permanent');
    expect(classifyS3Error(s3err('EntityTooLarge', 400)).kind).toBe('permanent');
  });
});
