/**
 * The set-up most integration tests repeat, through the public API: a destination and an export to it, a backfill
 * of some hours, and waiting for its runs. One place to change when the API's shape changes.
 */
import type { AppHarness } from './app-harness';

const HOUR = 3_600_000;

export interface ExportTo {
  destinationId: string;
  exportId: string;
}

/** Creates a destination of `type` with `config` and an hourly events export to it (or `exportInput` fields). */
export async function exportTo(
  h: Pick<AppHarness, 'gql'>,
  type: string,
  config: Record<string, unknown>,
  exportInput: { model?: string; interval?: string; name?: string } = {},
): Promise<ExportTo> {
  const { createDestination } = await h.gql<{ createDestination: { id: string } }>(
    `mutation($t: String!, $c: JSONObject!) { createDestination(input: { name: "dest", type: $t, config: $c }) { id } }`,
    { t: type, c: config },
  );
  const { createBatchExport } = await h.gql<{ createBatchExport: { id: string } }>(
    `mutation($d: ID!, $n: String!) { createBatchExport(input: { name: $n, destinationId: $d, model: ${exportInput.model ?? 'EVENTS'}, interval: ${exportInput.interval ?? 'HOUR'} }) { id } }`,
    { d: createDestination.id, n: exportInput.name ?? 'export' },
  );
  return { destinationId: createDestination.id, exportId: createBatchExport.id };
}

/** Backfills `[start, start + hours)` and returns the ids of its runs in interval order. */
export async function backfillHours(h: Pick<AppHarness, 'gql' | 'app'>, exportId: string, start: Date, hours = 1): Promise<string[]> {
  const { createBackfill } = await h.gql<{ createBackfill: { id: string } }>(
    `mutation($e: ID!, $s: DateTimeISO!, $t: DateTimeISO!) { createBackfill(input: { batchExportId: $e, startAt: $s, endAt: $t }) { id } }`,
    { e: exportId, s: start.toISOString(), t: new Date(start.getTime() + hours * HOUR).toISOString() },
  );
  const rows: { id: string }[] = await h.app.dataSource.query(
    `SELECT id FROM runs WHERE backfill_id = $1 ORDER BY interval_start`,
    [createBackfill.id],
  );
  return rows.map((r) => r.id);
}

/** The run's row in the store (snake_case columns), read directly: works whatever the API spells. */
export async function runRow(h: Pick<AppHarness, 'app'>, runId: string): Promise<Record<string, any>> {
  const [row] = await h.app.dataSource.query(`SELECT * FROM runs WHERE id = $1`, [runId]);
  return row;
}

/** Waits until the run is Completed or Failed and returns its row. */
export async function finishedRun(h: Pick<AppHarness, 'app' | 'waitFor'>, runId: string, ms = 90_000): Promise<Record<string, any>> {
  return h.waitFor(`run ${runId} to finish`, async () => {
    const r = await runRow(h, runId);
    return ['Completed', 'Failed'].includes(r.status) && r;
  }, ms);
}

/** The run's log messages, oldest first. */
export async function runMessages(h: Pick<AppHarness, 'app'>, runId: string): Promise<string[]> {
  const rows: { message: string }[] = await h.app.dataSource.query(`SELECT message FROM log_entries WHERE run_id = $1 ORDER BY id`, [runId]);
  return rows.map((r) => r.message);
}

/**
 * Backfills the one interval `[start, start + 1 h)`, waits for its run to finish, and returns the run as the API
 * reports it (status, latestError, recordsCompleted, replacements) with its log messages.
 */
export async function runHourThroughApi(
  h: Pick<AppHarness, 'gql' | 'app' | 'waitFor'>,
  exportId: string,
  start: Date,
  ms = 120_000,
): Promise<{ run: Record<string, any>; messages: string[] }> {
  const [runId] = await backfillHours(h, exportId, start);
  const run = await h.waitFor('the run to finish', async () => {
    const { run: r } = await h.gql<{ run: Record<string, any> }>(
      `query($id: ID!) { run(id: $id) { status latestError recordsCompleted replacements { column rule count } } }`,
      { id: runId },
    );
    return ['COMPLETED', 'FAILED'].includes(r.status) ? r : undefined;
  }, ms);
  const { logs } = await h.gql<{ logs: { edges: { node: { message: string } }[] } }>(
    `query($id: ID!) { logs(runId: $id, first: 100) { edges { node { message } } } }`,
    { id: runId },
  );
  return { run, messages: logs.edges.map((e) => e.node.message) };
}
