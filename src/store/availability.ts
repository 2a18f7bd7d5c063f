/**
 * Telling "the metadata store is unreachable right now" apart from other database errors, and waiting it out.
 * Every role must survive a store outage of any length: what it cannot write now it writes when the store is back.
 */
import type { Logger } from '../logger';

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
const CONNECTION_MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|terminating connection|the database system is (starting up|shutting down|in recovery)|server closed the connection|Connection ended/i;

/** True for errors that mean the store could not be reached or dropped the connection (not a bad query). */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown; driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
    if (CONNECTION_MESSAGES.test(e instanceof Error ? e.message : String(e))) return true;
  }
  return false;
}

export interface OutageOptions {
  log: Logger;
  /** What is waiting, for the log: `recording the outcome of run …`. */
  what: string;
  /** Stops waiting (shutdown); the last error is thrown. */
  signal?: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs `fn` until it succeeds, retrying only store-unavailable errors, with capped exponential backoff. Logs once
 * when it starts waiting and once when the store answers again, not on every attempt.
 */
export async function retryThroughStoreOutage<T>(fn: () => Promise<T>, opts: OutageOptions): Promise<T> {
  let delay = opts.initialDelayMs ?? 250;
  let waitingSince: number | undefined;
  for (;;) {
    try {
      const result = await fn();
      if (waitingSince !== undefined) {
        opts.log.info({ waitedMs: Date.now() - waitingSince }, `metadata store is back: ${opts.what} done`);
      }
      return result;
    } catch (err) {
      if (!isStoreUnavailable(err) || opts.signal?.aborted) throw err;
      if (waitingSince === undefined) {
        waitingSince = Date.now();
        opts.log.warn({ err: String(err) }, `metadata store unreachable: waiting for it before ${opts.what}`);
      }
      await sleep(delay, opts.signal);
      delay = Math.min(opts.maxDelayMs ?? 5_000, delay * 2);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Tracks whether this process can reach the store, from the outcome of its regular work (ticks, heartbeats,
 * probes). Logs the transitions once each, so an outage reads as two lines, not one per failed attempt.
 */
export class StoreReachability {
  private downSince?: number;
  private lastError?: string;

  constructor(private readonly log: Logger, private readonly who: string) {}

  get reachable(): boolean {
    return this.downSince === undefined;
  }

  get reason(): string | undefined {
    return this.downSince === undefined ? undefined : `metadata store unreachable for ${Math.round((Date.now() - this.downSince) / 1000)} s (${this.lastError})`;
  }

  /** When the store was last seen coming back, so callers can give others time to catch up after an outage. */
  recoveredAt?: number;

  up(): void {
    if (this.downSince === undefined) return;
    this.log.info({ downMs: Date.now() - this.downSince }, `metadata store reachable again: ${this.who} resumes`);
    this.downSince = undefined;
    this.recoveredAt = Date.now();
  }

  down(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.log.warn({ err: this.lastError }, `metadata store unreachable: ${this.who} waits for it`);
  }
}
