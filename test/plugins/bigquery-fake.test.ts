/** The fake BigQuery server itself: OAuth, error shapes and the SQL subset, driven by the real SDK where it can be. */
import { createSign } from 'node:crypto';
import { BigQuery } from '@google-cloud/bigquery';
import { ServiceAccountTokens } from '../../plugins/bigquery/auth';
import { FakeBigQuery } from '../fakes/bigquery';
import type { ServiceAccountKeyFile } from '../fakes/bigquery';

let fake: FakeBigQuery;
let key: ServiceAccountKeyFile;
let bq: BigQuery;

beforeAll(async () => {
  fake = await FakeBigQuery.start();
  key = fake.serviceAccountKey();
  bq = new BigQuery({ projectId: fake.projectId, apiEndpoint: fake.url, authClient: new ServiceAccountTokens(key) as never, autoRetry: false });
  await fake.createDataset('ds');
}, 60_000);
afterAll(async () => {
  await fake?.stop();
});

function assertion(k: ServiceAccountKeyFile, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${enc({ alg: 'RS256', typ: 'JWT', kid: k.private_key_id })}.${enc({ iss: k.client_email, scope: 'https://www.googleapis.com/auth/bigquery', aud: k.token_uri, iat: now, exp: now + 3600, ...claims })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(k.private_key).toString('base64url')}`;
}

const grant = (a: string) =>
  fetch(fake.tokenUri, { method: 'POST', body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: a }) });

describe('fake BigQuery', () => {
  it('issues tokens only for assertions signed by the registered key', async () => {
    const ok = await grant(assertion(key));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });

    const other = fake.serviceAccountKey();
    const forged = await grant(assertion({ ...key, private_key: other.private_key }));
    expect(forged.status).toBe(400);
    expect(await forged.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });

    const stale = await grant(assertion(key, { iat: 1_000_000, exp: 1_003_600 }));
    expect((await stale.json()).error).toBe('invalid_grant');
  });

  it('answers unauthenticated API calls with 401 in the REST error shape', async () => {
    const res = await fetch(`${fake.url}/bigquery/v2/projects/${fake.projectId}/datasets/ds`);
    expect(res.status).toBe(401);
    expect((await res.json()).error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED', errors: [{ reason: 'unauthorized' }] });
  });

  it('loads NDJSON through the SDK, keeps NUL bytes and microseconds, and rejects unknown fields', async () => {
    const [table] = await bq.dataset('ds').createTable('t1', {
      schema: { fields: [{ name: 's', type: 'STRING', mode: 'REQUIRED' }, { name: 'ts', type: 'TIMESTAMP' }, { name: 'n', type: 'INT64' }] },
    });
    const load = (text: string) =>
      new Promise((resolve, reject) => {
        const w = table.createWriteStream({ sourceFormat: 'NEWLINE_DELIMITED_JSON' });
        w.on('complete', resolve).on('error', reject);
        w.end(text);
      });
    await load('{"s":"a\\u0000b 𝄞","ts":"2024-01-31T23:59:59.123456Z","n":9007199254740991}\n{"s":"x","ts":null,"n":null}\n');
    const [rows] = await table.getRows();
    expect(rows.map((r: any) => [r.s, r.ts?.value ?? null, r.n])).toEqual([
      // The SDK prints timestamps with nanoseconds (PreciseDate).
      ['a\u0000b 𝄞', '2024-01-31T23:59:59.123456000Z', 9007199254740991],
      ['x', null, null],
    ]);
    await expect(load('{"s":"y","nope":1}\n')).rejects.toMatchObject({ errors: [{ reason: 'invalid', message: expect.stringContaining('No such field: nope.') }] });
    await expect(load('{"ts":null}\n')).rejects.toMatchObject({ errors: [{ reason: 'invalid', message: expect.stringContaining('Missing required field: s.') }] });
    const [after] = await table.getRows();
    expect(after).toHaveLength(2);
  });

  it('runs the supported GoogleSQL subset on Postgres and refuses the rest', async () => {
    const [job] = await bq.createQueryJob({ query: `SELECT COUNT(*) AS n FROM \`${fake.projectId}.ds.t1\` WHERE \`ts\` < TIMESTAMP '2024-02-01 00:00:00+00:00'`, useLegacySql: false });
    const [rows] = await job.getQueryResults();
    expect(rows).toEqual([{ n: 1 }]);
    await expect(bq.createQueryJob({ query: 'SELECT s FROM `ds.t1` QUALIFY ROW_NUMBER() OVER () = 1', useLegacySql: false })).rejects.toMatchObject({
      errors: [{ reason: 'invalidQuery', message: expect.stringContaining('QUALIFY') }],
    });
    await expect(bq.createQueryJob({ query: 'SELECT 1 FROM `ds.missing`', useLegacySql: false })).rejects.toMatchObject({
      errors: [{ reason: 'notFound', message: expect.stringContaining(`Not found: Table ${fake.projectId}:ds.missing`) }],
    });
  });

  it('injects failures for the next matching requests only', async () => {
    fake.failNext(2, { status: 503, reason: 'backendError', match: (r) => r.kind === 'dataset.get' });
    await expect(bq.dataset('ds').getMetadata()).rejects.toMatchObject({ code: 503 });
    await expect(bq.dataset('ds').getMetadata()).rejects.toMatchObject({ code: 503, errors: [{ reason: 'backendError' }] });
    await expect(bq.dataset('ds').getMetadata()).resolves.toBeDefined();
    await expect(bq.dataset('nope').getMetadata()).rejects.toMatchObject({ code: 404, errors: [{ reason: 'notFound' }] });
  });
});
