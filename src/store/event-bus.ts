/**
 * Cross-process change feed: whoever changes a run or backfill NOTIFYs on one Postgres channel; every API process
 * LISTENs and fans the change out to its GraphQL subscribers. Payloads carry the small state subscribers need
 * (Postgres caps NOTIFY payloads at 8000 bytes, so errors are truncated).
 */
import { EventEmitter } from 'node:events';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

export const CHANNEL = 'outport_changes';

export interface RunChange {
  kind: 'run';
  teamId: number;
  batchExportId: string;
  runId: string;
  backfillId: string | null;
  status: string;
  recordsCompleted: number;
  recordsRead: number;
  recordsTotalCount: number | null;
  bytesExported: number;
  latestError: string | null;
  intervalStart: string;
  intervalEnd: string;
  at: string;
}

export interface BackfillChange {
  kind: 'backfill';
  teamId: number;
  batchExportId: string;
  backfillId: string;
  at: string;
}

/** An API token was revoked: every API process closes the WebSockets it authenticated. */
export interface TokenRevokedChange {
  kind: 'token-revoked';
  teamId: number;
  tokenId: string;
  at: string;
}

export type Change = RunChange | BackfillChange | TokenRevokedChange;

export async function publishChange(ds: Pick<DataSource, 'query'>, change: Change): Promise<void> {
  const c = { ...change } as Change;
  if (c.kind === 'run' && c.latestError && c.latestError.length > 2000) c.latestError = c.latestError.slice(0, 2000) + '…';
  await ds.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(c)]);
}

/** One LISTEN connection per process; reconnects with backoff when the connection drops. */
export class ChangeListener {
  private readonly emitter = new EventEmitter();
  private client?: Client;
  private stopped = false;

  constructor(private readonly url: string, private readonly onError: (err: unknown) => void = () => undefined) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.url, application_name: 'outport-listen' });
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      try {
        const change = JSON.parse(msg.payload) as Change;
        // Revocations go to their own listeners, so 'change' listeners remain exactly the open subscriptions.
        this.emitter.emit(change.kind === 'token-revoked' ? 'token-revoked' : 'change', change);
      } catch (err) {
        this.onError(err);
      }
    });
    client.on('error', (err) => {
      this.onError(err);
      this.reconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  private reconnect(delayMs = 1000): void {
    if (this.stopped) return;
    this.client = undefined;
    setTimeout(() => this.start().catch(() => this.reconnect(Math.min(delayMs * 2, 30_000))), delayMs).unref();
  }

  on(listener: (c: Change) => void): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }

  onTokenRevoked(listener: (c: TokenRevokedChange) => void): () => void {
    this.emitter.on('token-revoked', listener);
    return () => this.emitter.off('token-revoked', listener);
  }

  /** An async iterator of changes passing `filter`, ended by `return()` (graphql-ws calls it on unsubscribe). */
  iterate<T extends Change>(filter: (c: Change) => c is T): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const off = this.on((c) => {
      if (filter(c)) {
        queue.push(c);
        wake?.();
      }
    });
    const it: AsyncIterableIterator<T> = {
      async next() {
        while (!done && queue.length === 0) await new Promise<void>((r) => (wake = r));
        if (done) return { value: undefined, done: true };
        return { value: queue.shift()!, done: false };
      },
      async return() {
        done = true;
        off();
        wake?.();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }
}
