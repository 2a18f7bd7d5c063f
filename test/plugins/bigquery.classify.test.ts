/** classifyBigQueryError on errors produced by the real SDK (against small local servers), not hand-made objects. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BigQuery } from '@google-cloud/bigquery';
import { classifyBigQueryError } from '../../plugins/bigquery/errors';
import { withDeadline } from '../../plugins/bigquery/client';
import { closedPort } from '../conformance/fixtures/bigquery';

const noAuth = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer x' }) };

async function sdkError(apiEndpoint: string, timeout = 10_000): Promise<unknown> {
  const bq = new BigQuery({ projectId: 'outport-test-project', apiEndpoint, authClient: noAuth as never, autoRetry: false, timeout });
  return bq.dataset('d').getMetadata().then(() => { throw new Error('expected a failure'); }, (e: unknown) => e);
}

async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); },
  };
}

const googleError = (code: number, reason: string, message: string) => (_req: http.IncomingMessage, res: http.ServerResponse) =>
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message, errors: [{ reason, message, domain: 'global' }] } }));

describe('classifyBigQueryError', () => {
  it('treats a refused connection as retryable', async () => {
    expect(classifyBigQueryError(await sdkError(`http://127.0.0.1:${await closedPort()}`)).kind).toBe('retryable');
  });

  it('bounds a stalled SDK call with a retryable deadline (the SDK itself never times out)', async () => {
    const hanging = await serve(() => undefined);
    try {
      const bq = new BigQuery({ projectId: 'outport-test-project', apiEndpoint: hanging.url, authClient: noAuth as never, autoRetry: false, timeout: 100 });
      const err = await withDeadline(bq.dataset('d').getMetadata(), 300, 'datasets.get').then(() => undefined, (e: unknown) => e);
      expect(classifyBigQueryError(err)).toMatchObject({ kind: 'retryable', code: 'TIMEOUT' });
    } finally {
      await hanging.close();
    }
  });

  it.each([
    [403, 'quotaExceeded', 'retryable'],
    [403, 'rateLimitExceeded', 'retryable'],
    [403, 'accessDenied', 'config'],
    [404, 'notFound', 'config'],
    [400, 'invalid', 'permanent'],
    [500, 'backendError', 'retryable'],
    [502, 'badGateway', 'retryable'],
    [401, 'unauthorized', 'config'],
  ])('HTTP %i %s is %s', async (code, reason, kind) => {
    const server = await serve(googleError(code, reason, `Not found: Dataset outport-test-project:d (${reason})`));
    try {
      expect(classifyBigQueryError(await sdkError(server.url)).kind).toBe(kind);
    } finally {
      await server.close();
    }
  });
});
