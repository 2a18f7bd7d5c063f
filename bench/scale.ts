/**
 * Scale: many hourly exports in one store. Times one real scheduler tick (`schedulerTick`, the function the
 * scheduler role calls) creating a run per export, then measures API latency of the dashboard's list queries
 * (exports, runs of an export) over HTTP while a worker process executes those runs.
 */
import 'reflect-metadata';
import { schedulerTick } from '../src/scheduler/tick';
import { createDataSource } from '../src/store/data-source';
import { systemClock } from '../src/tokens';
import { startRoleChild } from './child';
import { elapsed } from './limits';
import { outportEnv, type Metadata } from './outport';
import type { Services } from './services';
import { displayPrefix, generateToken, hashToken } from '../src/store/tokens';

// The dashboard's own list queries (dashboard/src/queries.ts).
const RUN = `id batchExportId backfillId status trigger intervalStart intervalEnd attempt recordsRead recordsTotalCount
  recordsCompleted bytesExported latestError errorKind createdAt startedAt finishedAt durationSeconds cancelRequestedAt`;
const EXPORT = `id name model interval timezone offsetHour offsetDay paused pausedReason includeEvents excludeEvents
  filters { key operator value } destination { id name type } scheduledUntil createdAt
  latestRuns(limit: 3) { id status intervalStart finishedAt }`;
const LIST_EXPORTS = `query { batchExports(first: 100) { edges { node { ${EXPORT} } } } }`;
const LIST_RUNS = `query ($id: ID!, $first: Int) { runs(batchExportId: $id, first: $first) { edges { node { ${RUN} } } } }`;

export interface Latency {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ScaleResult {
  exports: number;
  tick: { seconds: number; runsCreated: number; exportsSeen: number };
  /** Latencies measured while the runs executed. */
  listExports: Latency;
  listRuns: Latency;
  runsCompletedDuringMeasurement: number;
  workerConcurrency: number;
}

export async function runScale(s: Services, m: Metadata, o: { exports: number; requests: number; log: (s: string) => void }): Promise<ScaleResult> {
  const { db } = m;
  // A team of its own: its intervals hold no events, so each run counts its rows in ClickHouse and completes.
  const [team] = (await db.query(`INSERT INTO teams (name) VALUES ('scale') RETURNING id`)).rows;
  const token = generateToken();
  await db.query(`INSERT INTO api_tokens (team_id, name, token_hash, display_prefix, scopes) VALUES ($1, 'scale', $2, $3, '{read,write}')`, [
    team.id, hashToken(token), displayPrefix(token),
  ]);
  const [dest] = (
    await db.query(`INSERT INTO destinations (team_id, name, type, config) VALUES ($1, 'scale files', 'local-files', $2) RETURNING id`, [
      team.id, { path: `${s.root}/scale-exports` },
    ])
  ).rows;
  // Every export scheduled up to the previous hour boundary: exactly one interval has closed for each.
  const hour = 3_600_000;
  const lastBoundary = Math.floor(Date.now() / hour) * hour;
  await db.query(
    `INSERT INTO batch_exports (team_id, name, destination_id, model, interval, scheduled_until, created_at)
     SELECT $1, 'hourly ' || g, $2, 'events', 'hour', $3::timestamptz, $3::timestamptz - interval '1 day' FROM generate_series(1, $4) g`,
    [team.id, dest.id, new Date(lastBoundary - hour), o.exports],
  );
  // The throughput runs' exports are scheduled up to their data's interval: left live, the tick would catch them up.
  await db.query(`UPDATE batch_exports SET paused = true WHERE team_id <> $1`, [team.id]);
  await db.query('ANALYZE');

  const ds = createDataSource(s.metadataUrl, { poolSize: 4 });
  await ds.initialize();
  let tick;
  try {
    const t0 = process.hrtime.bigint();
    const r = await schedulerTick(ds, systemClock, { settleMs: 0, catchUpLimit: 1000 });
    tick = { seconds: elapsed(t0), runsCreated: r.runsCreated, exportsSeen: r.exports };
  } finally {
    await ds.destroy();
  }
  o.log(`  scheduler tick: ${tick.runsCreated} runs for ${tick.exportsSeen} exports in ${tick.seconds.toFixed(2)} s`);

  const env = outportEnv(s, m, 'worker');
  const worker = await startRoleChild({ env });
  const api = await startRoleChild({ env: { ...env, OUTPORT_ROLES: 'api' } });
  try {
    const completedBefore = await completedRuns(m, team.id);
    const exportIds: string[] = (await db.query(`SELECT id FROM batch_exports WHERE team_id = $1`, [team.id])).rows.map((r) => r.id);
    const gql = async (query: string, variables?: Record<string, unknown>) => {
      const t = process.hrtime.bigint();
      const res = await fetch(api.apiUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { errors?: unknown[] };
      if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
      return elapsed(t) * 1000;
    };
    // Warm-up (JIT, connection pool, schema caches) is not what a user waits for on a running server.
    for (let i = 0; i < 5; i++) {
      await gql(LIST_EXPORTS);
      await gql(LIST_RUNS, { id: exportIds[i], first: 50 });
    }
    const exportsMs: number[] = [];
    const runsMs: number[] = [];
    for (let i = 0; i < o.requests; i++) {
      exportsMs.push(await gql(LIST_EXPORTS));
      runsMs.push(await gql(LIST_RUNS, { id: exportIds[(i * 7919) % exportIds.length], first: 50 }));
    }
    const completedAfter = await completedRuns(m, team.id);
    return {
      exports: o.exports,
      tick,
      listExports: latency(exportsMs),
      listRuns: latency(runsMs),
      runsCompletedDuringMeasurement: completedAfter - completedBefore,
      workerConcurrency: 2,
    };
  } finally {
    await api.stop();
    await worker.stop();
  }
}

async function completedRuns(m: Metadata, teamId: number): Promise<number> {
  const { rows } = await m.db.query(`SELECT count(*)::int AS n FROM runs WHERE team_id = $1 AND status = 'Completed'`, [teamId]);
  return rows[0].n;
}

function latency(ms: number[]): Latency {
  const sorted = [...ms].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  return { requests: ms.length, p50Ms: round(q(0.5)), p99Ms: round(q(0.99)), maxMs: round(sorted[sorted.length - 1]) };
}

const round = (x: number) => Math.round(x * 10) / 10;
