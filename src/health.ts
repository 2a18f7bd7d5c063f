/**
 * Liveness and readiness of one process, whatever roles it runs. Each role registers what it needs to do its work
 * (the store answering, its job slots running, its last tick succeeding); `/readyz` answers 503 naming what is
 * missing, so an orchestrator stops routing to a process that cannot work and a person reading it knows why.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

/** Returns undefined when ready, else why not (`metadata store unreachable`, `1 of 2 worker slots running`). */
export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

export interface HealthReport {
  ready: boolean;
  checks: Record<string, string>;
}

export class Health {
  private readonly checks = new Map<string, ReadinessCheck>();

  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async report(): Promise<HealthReport> {
    const checks: Record<string, string> = {};
    let ready = true;
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        const problem = await Promise.resolve()
          .then(check)
          .catch((err) => `check failed: ${err instanceof Error ? err.message : String(err)}`);
        checks[name] = problem ?? 'ok';
        if (problem) ready = false;
      }),
    );
    return { ready, checks };
  }
}

/** The store answers a trivial query within `timeoutMs` (a stopped or unreachable store must not hang the probe). */
export function storeCheck(ds: DataSource, timeoutMs = 2_000): ReadinessCheck {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`metadata store did not answer within ${timeoutMs} ms`), timeoutMs);
    });
    try {
      return await Promise.race([ds.query('SELECT 1').then(() => undefined, (err) => `metadata store unreachable: ${err instanceof Error ? err.message : String(err)}`), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Answers `/readyz` from `health`: 200 `{status:"ready"}` or 503 `{status:"unavailable", reason, checks}`. */
export async function answerReadiness(health: Health, res: { status(code: number): { json(body: unknown): unknown } }, log: Logger): Promise<void> {
  const report = await health.report();
  if (report.ready) {
    res.status(200).json({ status: 'ready', checks: report.checks });
    return;
  }
  const reason = Object.entries(report.checks).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k}: ${v}`).join('; ');
  log.warn({ checks: report.checks }, 'readiness check failed');
  res.status(503).json({ status: 'unavailable', reason, checks: report.checks });
}

/**
 * `/healthz`, `/readyz` and `/metrics` for a process without the api role (a worker or scheduler process), on
 * `port` (0 picks a free one).
 */
export async function startHealthServer(health: Health, host: string, port: number, log: Logger, metrics?: Metrics): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const reply = { status: (code: number) => ({ json: (body: unknown) => json(code, body) }) };
    if (req.method === 'GET' && req.url === '/healthz') return json(200, { status: 'ok' });
    if (req.method === 'GET' && req.url === '/readyz') {
      answerReadiness(health, reply, log).catch((err) => json(500, { status: 'error', reason: String(err) }));
      return;
    }
    if (req.method === 'GET' && req.url === '/metrics' && metrics) {
      metrics.text().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        },
        (err) => json(500, { status: 'error', reason: String(err) }),
      );
      return;
    }
    json(404, { error: `not found: this process serves /healthz, /readyz${metrics ? ' and /metrics' : ''} only` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  log.info({ url }, `health endpoints listening (/healthz, /readyz${metrics ? ', /metrics' : ''})`);
  return {
    url,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
