/**
 * Runs the README's GraphQL examples, as written, against a real server with a worker: a destination, an export,
 * an estimate, a backfill that completes, runs, a replay, logs, pause and unpause, and the subscription.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateEvents, insertEvents } from '../../src/source';
import { startAppHarness, type AppHarness } from '../support/app-harness';

const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
const operations = new Map(
  [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => [/^(?:query|mutation|subscription) (\w+)/.exec(m[1])![1], m[1]]),
);
const op = (name: string) => {
  const text = operations.get(name);
  if (!text) throw new Error(`README has no GraphQL example named ${name}`);
  return text;
};

describe('README examples', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await startAppHarness();
  }, 120_000);
  afterAll(() => h?.stop());

  it('run as documented', async () => {
    const from = new Date('2026-08-01T00:00:00Z');
    const to = new Date('2026-08-01T03:00:00Z');
    await insertEvents(h.ch, { database: h.chDatabase }, generateEvents({ seed: 3, teamId: h.teamId, count: 90, start: from, stepMicros: 100_000_000 }));

    const catalog = await h.gql<{ destinationTypes: { edges: { node: { id: string } }[] } }>(op('Catalog'));
    expect(catalog.destinationTypes.edges.map((e) => e.node.id)).toEqual(expect.arrayContaining(['postgres', 's3', 'local-files', 'bigquery', 'snowflake', 'redshift']));

    const dest = await h.gql<{ createDestination: { id: string; config: Record<string, unknown> } }>(op('CreateDestination'), {
      config: { ...h.destination, ssl_mode: 'disable' },
    });
    expect(dest.createDestination.config.password).toBe('********');
    const tested = await h.gql<{ testDestination: { ok: boolean } }>(op('TestDestination'), { id: dest.createDestination.id });
    expect(tested.testDestination.ok).toBe(true);

    const exp = await h.gql<{ createBatchExport: { id: string } }>(op('CreateExport'), { destinationId: dest.createDestination.id });
    const id = exp.createBatchExport.id;
    const range = { id, from: from.toISOString(), to: to.toISOString() };
    const estimate = await h.gql<{ estimateBackfill: { runs: number } }>(op('Estimate'), range);
    expect(estimate.estimateBackfill.runs).toBe(3);

    const live: string[] = [];
    h.ws().subscribe({ query: op('Live'), variables: { id } }, { next: (r) => live.push((r.data as { runUpdated: { status: string } }).runUpdated.status), error: () => undefined, complete: () => undefined });
    await new Promise((r) => setTimeout(r, 300));

    const backfill = await h.gql<{ createBackfill: { id: string } }>(op('Backfill'), range);
    await h.waitFor('backfill to complete', async () => {
      const runs = await h.gql<{ runs: { edges: { node: { status: string } }[] } }>(op('Runs'), { id });
      return runs.runs.edges.length === 3 && runs.runs.edges.every((e) => e.node.status === 'COMPLETED') && runs;
    });
    expect(backfill.createBackfill.id).toBeDefined();
    const runs = await h.gql<{ runs: { edges: { node: { id: string; recordsRead: number; recordsCompleted: number } }[] } }>(op('Runs'), { id });
    expect(runs.runs.edges.map((e) => e.node.recordsCompleted).reduce((a, b) => a + b, 0)).toBe(90);
    expect(runs.runs.edges.every((e) => e.node.recordsRead === e.node.recordsCompleted)).toBe(true);
    expect(live).toContain('COMPLETED');

    const runId = runs.runs.edges[0].node.id;
    await h.gql(op('Replay'), { runId });
    await h.waitFor('replay to complete', async () => {
      const r = await h.app.dataSource.query(`SELECT status, trigger FROM runs WHERE id = $1`, [runId]);
      return r[0].status === 'Completed' && r[0].trigger === 'retry';
    });
    const logs = await h.gql<{ logs: { edges: { node: { message: string } }[] } }>(op('RunLogs'), { runId });
    expect(logs.logs.edges.some((e) => /Completed: \d+ rows read/.test(e.node.message))).toBe(true);
    const [{ n }] = await h.destinationQuery<{ n: number }>(`SELECT count(*)::int AS n FROM events`);
    expect(n).toBe(90);

    expect((await h.gql<{ pauseBatchExport: { paused: boolean } }>(op('Pause'), { id })).pauseBatchExport.paused).toBe(true);
    expect((await h.gql<{ unpauseBatchExport: { paused: boolean } }>(op('Unpause'), { id })).unpauseBatchExport.paused).toBe(false);
  }, 120_000);
});
