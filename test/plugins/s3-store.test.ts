/**
 * The S3 file store's multipart uploads against the local S3 server: what a run's files hold in memory is bounded
 * by multipart_concurrency + 1 part buffers, reused from file to file, and every file reads back byte for byte.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { createS3Client } from '../../plugins/s3';
import { S3Store } from '../../plugins/s3/s3-store';
import { freshS3Config } from '../conformance/fixtures/s3';

const MiB = 1024 * 1024;

/** Forwards to the S3 server and records the most UploadPart requests in flight at once. */
async function partCountingProxy(target: string) {
  const t = new URL(target);
  const seen = { parts: 0, puts: 0, inFlight: 0, maxInFlight: 0 };
  const server = http.createServer((req, res) => {
    const isPart = req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '');
    if (isPart) {
      seen.parts++;
      seen.maxInFlight = Math.max(seen.maxInFlight, ++seen.inFlight);
    } else if (req.method === 'PUT') seen.puts++;
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 500, r.headers);
      r.pipe(res);
      r.on('end', () => isPart && seen.inFlight--);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function writeFile(store: S3Store, key: string, bytes: Buffer, chunk = 64 * 1024): Promise<void> {
  const sink = await store.create(key);
  for (let i = 0; i < bytes.length; i += chunk) await sink.write(bytes.subarray(i, i + chunk));
  await sink.close();
}

describe('S3Store multipart uploads', () => {
  it('holds at most multipart_concurrency + 1 part buffers, reused by every file, and the files read back byte for byte', async () => {
    const config = await freshS3Config();
    const proxy = await partCountingProxy(config.endpoint_url!);
    const client = createS3Client({ ...config, endpoint_url: proxy.url });
    try {
      const store = new S3Store({ client, bucket: config.bucket_name, partSizeBytes: 5 * MiB, queueSize: 2, encryption: {} });
      const files = {
        'big.bin': randomBytes(23 * MiB + 17), // 4 full parts and a short one
        'exact.bin': randomBytes(10 * MiB), // two full parts, nothing after them
        'small.bin': randomBytes(1000), // one PUT
        'empty.bin': Buffer.alloc(0),
      };
      for (const [key, bytes] of Object.entries(files)) await writeFile(store, key, bytes);
      // An odd chunking: a chunk spans two parts.
      await writeFile(store, 'odd.bin', files['big.bin'], 3 * MiB + 5);

      expect(store.partBuffersAllocated).toBe(3);
      expect(proxy.seen.maxInFlight).toBeLessThanOrEqual(2);
      expect(proxy.seen).toMatchObject({ parts: 5 + 2 + 5, puts: 2 });
      for (const [key, bytes] of [...Object.entries(files), ['odd.bin', files['big.bin']] as const]) {
        expect([key, Buffer.from((await store.get(key))!).equals(bytes)]).toEqual([key, true]);
      }
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it('an aborted file leaves no object, and a file cannot start while another is open', async () => {
    const config = await freshS3Config();
    const client = createS3Client(config);
    try {
      const store = new S3Store({ client, bucket: config.bucket_name, partSizeBytes: 5 * MiB, queueSize: 2, encryption: {} });
      const sink = await store.create('aborted.bin');
      await sink.write(randomBytes(12 * MiB));
      await expect(store.create('second.bin')).rejects.toThrow(/one file at a time: second\.bin was started while aborted\.bin is still open/);
      await sink.abort(new Error('stop'));
      expect(await store.get('aborted.bin')).toBeUndefined();
      await writeFile(store, 'after.bin', Buffer.from('after'));
      expect(Buffer.from((await store.get('after.bin'))!).toString()).toBe('after');
      expect(store.partBuffersAllocated).toBeLessThanOrEqual(3);
    } finally {
      client.destroy();
    }
  });
});
