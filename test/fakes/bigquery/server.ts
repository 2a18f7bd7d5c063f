/**
 * A small, protocol-faithful BigQuery REST API v2 server for tests, driven by the real `@google-cloud/bigquery`
 * SDK. See README.md for what it covers. Start it with `startFakeBigQuery()`; point the SDK at `url`
 * (`apiEndpoint`) and use a key from `serviceAccountKey()` (its token_uri is the fake's token endpoint).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BigQueryError } from './errors';
import { FakeOAuth } from './oauth';
import type { ServiceAccountKeyFile } from './oauth';
import { FakeStorage, encodeCell } from './storage';
import type { FieldSchema, QueryOutcome } from './storage';

export interface InjectedFailure {
  /** HTTP status to answer with; 0 = never answer (a stalled connection). */
  status: number;
  reason: string;
  message?: string;
  /** Only requests for which this returns true fail (and count). Default: every API request (not the token endpoint). */
  match?: (req: { method: string; path: string; kind: RequestKind }) => boolean;
}

/** What a request does, for targeting injected failures. */
export type RequestKind = 'token' | 'dataset.get' | 'table.get' | 'table.insert' | 'table.delete' | 'table.patch' | 'tabledata.list' | 'job.insert' | 'job.get' | 'job.upload' | 'query.results' | 'query' | 'other';

interface Job {
  resource: Record<string, unknown>;
  result?: QueryOutcome;
  error?: BigQueryError;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  kind: RequestKind;
  status: number;
}

export class FakeBigQuery {
  readonly oauth = new FakeOAuth();
  private readonly jobs = new Map<string, Job>();
  private failures: (InjectedFailure & { remaining: number })[] = [];
  /** Every request answered, in order (useful to assert what the SDK did). */
  readonly requests: RequestLogEntry[] = [];
  /** The SQL text of every query job, in order. */
  readonly queries: string[] = [];
  url = '';

  private constructor(
    readonly storage: FakeStorage,
    private readonly server: http.Server,
  ) {}

  static async start(options: { pgServerUrl?: string; projectId?: string; location?: string } = {}): Promise<FakeBigQuery> {
    const pgServerUrl = options.pgServerUrl ?? process.env.OUTPORT_TEST_PG_URL;
    if (!pgServerUrl) throw new Error('fake BigQuery needs a Postgres server: OUTPORT_TEST_PG_URL is not set (run through `npm test`)');
    const storage = await FakeStorage.create(pgServerUrl, options.projectId ?? 'outport-test-project', options.location ?? 'US');
    const server = http.createServer();
    const fake = new FakeBigQuery(storage, server);
    server.on('request', (req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  get projectId(): string {
    return this.storage.projectId;
  }

  get tokenUri(): string {
    return `${this.url}/token`;
  }

  /** A new service-account key the fake accepts. */
  serviceAccountKey(email?: string): ServiceAccountKeyFile {
    return this.oauth.issueKey(this.projectId, this.tokenUri, email);
  }

  createDataset(datasetId: string): Promise<unknown> {
    return this.storage.createDataset(datasetId);
  }

  listTables(datasetId: string): Promise<string[]> {
    return this.storage.listTables(datasetId);
  }

  /** The next `count` matching requests fail with this BigQuery error. */
  failNext(count: number, failure: InjectedFailure): void {
    this.failures.push({ ...failure, remaining: count });
  }

  clearFailures(): void {
    this.failures = [];
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.storage.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const kind = classify(method, url.pathname);
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method, path: url.pathname, kind, status });
      if (body === undefined) {
        res.writeHead(status, headers).end();
      } else {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(body));
      }
    };
    try {
      const body = await readBody(req);
      const injected = this.takeFailure(method, url.pathname, kind);
      if (injected?.status === 0) return; // stall: the connection stays open until stop()
      if (injected) throw injected;
      if (kind === 'token') {
        const out = this.oauth.grant(new URLSearchParams(body.toString('utf8')), this.tokenUri);
        return send(out.status, out.body);
      }
      if (!this.oauth.authenticate(req.headers.authorization)) {
        throw new BigQueryError(401, 'unauthorized', 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
      }
      const out = await this.route(method, url, body, req.headers['content-type'] ?? '');
      return send(out.status, out.body);
    } catch (err) {
      if (err instanceof BigQueryError) return send(err.status, err.body());
      return send(500, new BigQueryError(500, 'internalError', `fake BigQuery bug: ${(err as Error).stack}`).body());
    }
  }

  private takeFailure(method: string, path: string, kind: RequestKind): BigQueryError | undefined {
    const f = this.failures.find((x) => x.remaining > 0 && (x.match ? x.match({ method, path, kind }) : kind !== 'token'));
    if (!f) return undefined;
    f.remaining--;
    return new BigQueryError(f.status, f.reason, f.message ?? `Injected failure: ${f.reason}`);
  }

  private async route(method: string, url: URL, body: Buffer, contentType: string): Promise<{ status: number; body?: unknown }> {
    const p = url.pathname;
    const qs = url.searchParams;
    let m: RegExpExecArray | null;
    const json = () => (body.length ? JSON.parse(body.toString('utf8')) : {});
    if ((m = /^\/upload\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(p)) && method === 'POST') {
      this.storage.checkProject(decodeURIComponent(m[1]));
      if (qs.get('uploadType') !== 'multipart') throw new BigQueryError(400, 'invalid', `The fake supports uploadType=multipart only, got ${qs.get('uploadType')}`);
      const [meta, data] = parseMultipartRelated(body, contentType);
      return { status: 200, body: await this.insertJob(JSON.parse(meta.toString('utf8')), data) };
    }
    if (!(m = /^\/bigquery\/v2\/projects\/([^/]+)(\/.*)?$/.exec(p))) throw new BigQueryError(404, 'notFound', `Not found: URL ${p}`);
    this.storage.checkProject(decodeURIComponent(m[1]));
    const rest = (m[2] ?? '').split('/').filter(Boolean).map(decodeURIComponent);
    const [a, b, c, d, e] = rest;
    if (a === 'datasets' && b && rest.length === 2 && method === 'GET') return { status: 200, body: (await this.storage.getDataset(b)).resource };
    if (a === 'datasets' && b && c === 'tables') {
      if (rest.length === 3 && method === 'POST') {
        const resource = json();
        return { status: 200, body: await this.storage.insertTable(b, { ...resource, tableReference: { ...resource.tableReference, datasetId: b } }) };
      }
      if (d && rest.length === 4 && method === 'GET') {
        const t = await this.storage.getTable(b, d);
        return { status: 200, body: { ...t.resource, numRows: String(await this.storage.tableRowCount(t.qualified)) } };
      }
      if (d && rest.length === 4 && (method === 'PATCH' || method === 'PUT')) {
        const t = await this.storage.patchTable(b, d, json());
        return { status: 200, body: { ...t, numRows: String(await this.storage.tableRowCount((await this.storage.getTable(b, d)).qualified)) } };
      }
      if (d && rest.length === 4 && method === 'DELETE') {
        await this.storage.deleteTable(b, d);
        return { status: 204 };
      }
      if (d && e === 'data' && method === 'GET') return { status: 200, body: await this.tableData(b, d, qs) };
    }
    if (a === 'jobs' && rest.length === 1 && method === 'POST') return { status: 200, body: await this.insertJob(json()) };
    if (a === 'jobs' && b && rest.length === 2 && method === 'GET') return { status: 200, body: this.job(b).resource };
    if (a === 'queries' && b && method === 'GET') return { status: 200, body: this.queryResults(this.job(b), qs) };
    if (a === 'queries' && !b && method === 'POST') {
      const request = json();
      const job = await this.insertJob({ configuration: { query: { query: request.query, useLegacySql: request.useLegacySql } }, jobReference: { location: request.location } });
      return { status: 200, body: { ...this.queryResults(this.job(job.jobReference.jobId), qs), kind: 'bigquery#queryResponse' } };
    }
    throw new BigQueryError(404, 'notFound', `Not found: ${method} ${p} (not served by the fake BigQuery)`);
  }

  private job(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new BigQueryError(404, 'notFound', `Not found: Job ${this.projectId}:${this.storage.location}.${jobId}`);
    return job;
  }

  /** Jobs run to completion inside jobs.insert; failures land in the job's status, as BigQuery reports them. */
  private async insertJob(resource: any, uploadData?: Buffer): Promise<any> {
    const jobId: string = resource.jobReference?.jobId ?? `job_${randomUUID().replace(/-/g, '_')}`;
    if (this.jobs.has(jobId)) throw new BigQueryError(409, 'duplicate', `Already Exists: Job ${this.projectId}:${this.storage.location}.${jobId}`);
    const now = String(Date.now());
    const job: Job = {
      resource: {
        kind: 'bigquery#job',
        id: `${this.projectId}:${this.storage.location}.${jobId}`,
        jobReference: { projectId: this.projectId, jobId, location: resource.jobReference?.location ?? this.storage.location },
        configuration: resource.configuration,
        statistics: { creationTime: now, startTime: now },
        user_email: 'outport-test',
      },
    };
    this.jobs.set(jobId, job);
    const load = resource.configuration?.load;
    const query = resource.configuration?.query;
    try {
      if (load) {
        if (!uploadData) throw new BigQueryError(400, 'invalid', 'The fake supports load jobs from uploads only (no sourceUris)');
        if (load.sourceFormat !== 'NEWLINE_DELIMITED_JSON') throw new BigQueryError(400, 'invalid', `The fake supports sourceFormat NEWLINE_DELIMITED_JSON only, got ${load.sourceFormat ?? 'CSV'}`);
        const dest = load.destinationTable;
        const rows = await this.storage.load(dest.datasetId, dest.tableId, uploadData, load);
        job.resource.statistics = { ...(job.resource.statistics as Record<string, unknown>), load: { outputRows: String(rows), inputFileBytes: String(uploadData.length) } };
      } else if (query) {
        if (query.useLegacySql !== false) throw new BigQueryError(400, 'invalidQuery', 'The fake BigQuery supports GoogleSQL only: set useLegacySql to false');
        this.queries.push(query.query);
        job.result = await this.storage.query(query.query, query.defaultDataset);
        job.resource.statistics = {
          ...(job.resource.statistics as Record<string, unknown>),
          query: { statementType: job.result.statementType, numDmlAffectedRows: job.result.numDmlAffectedRows === undefined ? undefined : String(job.result.numDmlAffectedRows) },
        };
      } else {
        throw new BigQueryError(400, 'invalid', 'The fake BigQuery runs load and query jobs only');
      }
      job.resource.status = { state: 'DONE' };
    } catch (err) {
      if (!(err instanceof BigQueryError)) throw err;
      job.error = err;
      job.resource.status = err.jobStatus();
    }
    (job.resource.statistics as Record<string, unknown>).endTime = String(Date.now());
    return job.resource;
  }

  private queryResults(job: Job, qs: URLSearchParams): Record<string, unknown> {
    if (job.error) throw job.error;
    const result = job.result;
    if (!result) throw new BigQueryError(400, 'invalid', `Job ${(job.resource.jobReference as { jobId: string }).jobId} is not a query job`);
    const start = Number(qs.get('pageToken') ?? qs.get('startIndex') ?? 0);
    const max = Number(qs.get('maxResults') ?? 100_000);
    const page = result.raw.slice(start, start + max);
    return {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference: job.resource.jobReference,
      jobComplete: true,
      schema: result.schema,
      totalRows: String(result.raw.length),
      rows: encodeRows(result.schema.fields, page, qs.get('formatOptions.useInt64Timestamp') === 'true'),
      pageToken: start + max < result.raw.length ? String(start + max) : undefined,
      numDmlAffectedRows: result.numDmlAffectedRows === undefined ? undefined : String(result.numDmlAffectedRows),
      cacheHit: false,
    };
  }

  private async tableData(datasetId: string, tableId: string, qs: URLSearchParams): Promise<unknown> {
    const t = await this.storage.getTable(datasetId, tableId);
    const start = Number(qs.get('pageToken') ?? qs.get('startIndex') ?? 0);
    const max = Math.min(Number(qs.get('maxResults') ?? 10_000), 100_000);
    const total = await this.storage.tableRowCount(t.qualified);
    const raw = await this.storage.readTable(t.qualified, start, max);
    return {
      kind: 'bigquery#tableDataList',
      totalRows: String(total),
      rows: encodeRows(t.resource.schema.fields, raw, qs.get('formatOptions.useInt64Timestamp') === 'true'),
      pageToken: start + raw.length < total ? String(start + raw.length) : undefined,
    };
  }
}

function encodeRows(fields: FieldSchema[], raw: unknown[][], int64Timestamps: boolean) {
  return raw.map((row) => ({ f: row.map((v, i) => ({ v: encodeCell(fields[i].type, v, int64Timestamps) })) }));
}

function classify(method: string, path: string): RequestKind {
  if (path === '/token') return 'token';
  if (path.startsWith('/upload/')) return 'job.upload';
  const rest = path.replace(/^\/bigquery\/v2\/projects\/[^/]+/, '');
  if (/^\/datasets\/[^/]+$/.test(rest)) return 'dataset.get';
  if (/^\/datasets\/[^/]+\/tables$/.test(rest)) return 'table.insert';
  if (/^\/datasets\/[^/]+\/tables\/[^/]+\/data$/.test(rest)) return 'tabledata.list';
  if (/^\/datasets\/[^/]+\/tables\/[^/]+$/.test(rest)) return method === 'DELETE' ? 'table.delete' : method === 'PATCH' || method === 'PUT' ? 'table.patch' : 'table.get';
  if (rest === '/jobs') return 'job.insert';
  if (/^\/jobs\/[^/]+$/.test(rest)) return 'job.get';
  if (/^\/queries\/[^/]+$/.test(rest)) return 'query.results';
  if (rest === '/queries') return 'query';
  return 'other';
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `multipart/related` with two parts (JSON metadata, then the data), as the Google upload protocol sends it. */
function parseMultipartRelated(body: Buffer, contentType: string): [Buffer, Buffer] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!/^multipart\/related/i.test(contentType) || !boundary) throw new BigQueryError(400, 'invalid', 'Expected a multipart/related upload');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new BigQueryError(400, 'invalid', 'Truncated multipart body');
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    let content = part.subarray(headerEnd + 4);
    if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
    parts.push(content);
    pos = next;
  }
  if (parts.length !== 2) throw new BigQueryError(400, 'invalid', `Expected 2 multipart parts, got ${parts.length}`);
  return [parts[0], parts[1]];
}
