/** How the kit drives a plugin: the RunContext it builds and the batches it streams. */
import { randomUUID } from 'node:crypto';
import { classifyCommonError } from '../classify';
import type { DestinationError, DestinationPlugin, PluginLogger, RunContext } from '../destination';
import { MODEL_SCHEMAS, type Model, type RecordBatch, type Row } from '../models';
import { TEAM_ID, type Interval } from './rows';

/** Batch sizes cycled through, so plugins see 1-row batches, large ones and odd sizes in one run. */
const BATCH_SIZES = [1, 37, 5, 100, 13, 64];

/** Collects log lines so failures can show them; warnings and errors are also printed. */
export function collectingLogger(): PluginLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg}${fields ? ' ' + safeJson(fields) : ''}`);
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

export function hourInterval(hoursAfter: number, hours = 1): Interval {
  const start = new Date(Date.UTC(2024, 2, 1, 0, 0, 0) + hoursAfter * 3_600_000);
  return { start, end: new Date(start.getTime() + hours * 3_600_000) };
}

export interface RunOptions {
  model: Model;
  interval: Interval;
  runId?: string;
  /** Default: `conformance-export`. */
  exportId?: string;
  attempt?: number;
  signal?: AbortSignal;
  expectedRows?: number;
}

export function runContext(o: RunOptions): RunContext & { progressRows: number; logger: ReturnType<typeof collectingLogger> } {
  const ctx = {
    runId: o.runId ?? `conformance-${randomUUID()}`,
    exportId: o.exportId ?? 'conformance-export',
    teamId: TEAM_ID,
    model: o.model,
    schema: MODEL_SCHEMAS[o.model],
    interval: o.interval,
    attempt: o.attempt ?? 1,
    isBackfill: false,
    expectedRows: o.expectedRows,
    signal: o.signal ?? new AbortController().signal,
    logger: collectingLogger(),
    progressRows: 0,
    progress(update: { rows?: number }) {
      ctx.progressRows += update.rows ?? 0;
    },
  };
  return ctx;
}

/** Splits rows into batches of varying sizes. */
export function toBatches(rows: Row[]): RecordBatch[] {
  const batches: RecordBatch[] = [];
  for (let i = 0, n = 0; i < rows.length; n++) {
    const slice = rows.slice(i, i + BATCH_SIZES[n % BATCH_SIZES.length]);
    batches.push({ rows: slice, sizeBytes: Buffer.byteLength(JSON.stringify(slice)) });
    i += slice.length;
  }
  return batches;
}

/**
 * Streams batches the way the source does: asynchronously, one at a time. With `failAfter`, aborts `controller`
 * after that many batches and throws its reason, as the source does when a run is cancelled mid-stream.
 */
export async function* stream(batches: RecordBatch[], failAfter?: { batches: number; controller: AbortController }): AsyncGenerator<RecordBatch> {
  for (let i = 0; i < batches.length; i++) {
    if (failAfter && i === failAfter.batches) {
      failAfter.controller.abort(new Error('conformance: run cancelled mid-stream'));
      throw failAfter.controller.signal.reason;
    }
    await new Promise((resolve) => setImmediate(resolve));
    yield batches[i];
  }
}

/** Runs `fn`, expecting it to reject, and classifies the rejection the way the host does. */
export async function classifiedFailure(plugin: DestinationPlugin, fn: () => Promise<unknown>): Promise<DestinationError> {
  let threw = false;
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    threw = true;
    error = err;
  }
  if (!threw) throw new Error('expected the call to fail, but it succeeded');
  return (plugin.classifyError ?? classifyCommonError)(error);
}
