/**
 * Outport end to end, through the real worker path: an export and one run for the interval holding all the data
 * are written to the metadata store and the run is enqueued exactly as the scheduler does (runs row + graphile
 * job); a separate worker process (role-child, booted by `boot()`) picks it up, reads ClickHouse, calls the
 * destination plugin and reconciles. Timed from enqueue to the run row turning Completed.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import type { Model } from '../src/sdk';
import { SecretBox } from '../src/store/secrets';
import { displayPrefix, generateToken, hashToken } from '../src/store/tokens';
import { enqueueRun } from '../src/worker/run-queue';
import { startRoleChild } from './child';
import { elapsed, type Measurement } from './limits';
import { CH_DATABASE, type Services } from './services';

export interface Metadata {
  db: Client;
  secretKeyHex: string;
  box: SecretBox;
  teamId: number;
  token: string;
}

/** Connects to the metadata store and creates the benchmark's team (id 1, the team the data was generated for). */
export async function openMetadata(s: Services): Promise<Metadata> {
  const db = new Client(s.metadataUrl);
  await db.connect();
  const key = randomBytes(32);
  const [team] = (await db.query(`INSERT INTO teams (name) VALUES ('bench') RETURNING id`)).rows;
  const token = generateToken();
  await db.query(`INSERT INTO api_tokens (team_id, name, token_hash, display_prefix, scopes) VALUES ($1, 'bench', $2, $3, '{read,write}')`, [
    team.id, hashToken(token), displayPrefix(token),
  ]);
  return { db, secretKeyHex: key.toString('hex'), box: new SecretBox(key), teamId: team.id, token };
}

/** The environment of an Outport process pointed at the benchmark's services. */
export function outportEnv(s: Services, m: Metadata, roles: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: s.metadataUrl,
    CLICKHOUSE_URL: s.clickhouseUrl,
    CLICKHOUSE_DATABASE: CH_DATABASE,
    OUTPORT_SECRET_KEY: m.secretKeyHex,
    OUTPORT_ROLES: roles,
    OUTPORT_DATA_DIR: path.join(s.root, 'outport-data'),
    LOG_LEVEL: 'warn',
    DEMO: 'false',
    PORT: '0',
    // The SDK's notice about Node 20 would be printed once per worker process, between the table's lines.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

export interface DestinationSpec {
  type: string;
  config: Record<string, unknown>;
  secrets?: Record<string, unknown>;
}

export interface OutportRun extends Measurement {
  runId: string;
  status: string;
  /** finished_at - started_at as the worker recorded them. */
  runSeconds: number;
  bytesExported: number;
  workerPeakRssMiB: number;
  /**
   * Where the run's time went, from the run row and its log: queue (enqueue -> claimed), count (the source's
   * count query, until "Exporting N rows" is logged), write (stream + destination write + reconcile).
   */
  phases?: { queueSeconds: number; countSeconds: number; writeSeconds: number };
  /** process.memoryUsage() in the worker at its largest sampled RSS, MiB. */
  workerPeakMemory?: Record<string, number>;
  /** The data path the worker took, from the run's log ("Data path: bytes ..."; the row path logs nothing). */
  dataPath: 'bytes' | 'rows';
  error?: string;
}

export interface OutportRunSpec {
  name: string;
  model: Model;
  exportInterval: 'hour' | 'week' | 'day';
  interval: { start: Date; end: Date };
  destination: DestinationSpec;
  cpuProfileDir?: string;
  /** NODE_OPTIONS for the worker process (e.g. heap limits), to try memory settings. */
  workerNodeOptions?: string;
  /** More environment for the worker process (OUTPORT_DATA_PATH=rows measures the row path). */
  workerEnv?: Record<string, string>;
  timeoutMs?: number;
}

export async function runThroughOutport(s: Services, m: Metadata, spec: OutportRunSpec): Promise<OutportRun> {
  const { db } = m;
  const d = spec.destination;
  const [dest] = (
    await db.query(`INSERT INTO destinations (team_id, name, type, config, encrypted_secrets) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [
      m.teamId, spec.name, d.type, d.config, d.secrets ? m.box.encrypt(d.secrets) : null,
    ])
  ).rows;
  const [exp] = (
    await db.query(
      `INSERT INTO batch_exports (team_id, name, destination_id, model, interval, scheduled_until) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [m.teamId, spec.name, dest.id, spec.model, spec.exportInterval, spec.interval.end],
    )
  ).rows;

  // A fresh worker process per measurement: its peak RSS is this run's alone.
  const worker = await startRoleChild({
    env: outportEnv(s, m, 'worker', { ...(spec.workerNodeOptions ? { NODE_OPTIONS: spec.workerNodeOptions } : {}), ...spec.workerEnv }),
    cpuProfile: spec.cpuProfileDir ? { dir: spec.cpuProfileDir, name: `${spec.name}.cpuprofile` } : undefined,
  });
  try {
    const t0 = process.hrtime.bigint();
    await db.query('BEGIN');
    const [run] = (
      await db.query(
        `INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status, trigger) VALUES ($1, $2, $3, $4, 'Starting', 'schedule') RETURNING id`,
        [m.teamId, exp.id, spec.interval.start, spec.interval.end],
      )
    ).rows;
    await enqueueRun(db, { id: run.id, batchExportId: exp.id });
    await db.query('COMMIT');
    const enqueuedAt = Date.now();
    const deadline = Date.now() + (spec.timeoutMs ?? 3_600_000);
    for (;;) {
      const [r] = (
        await db.query(
          `SELECT status, records_read, records_completed, bytes_exported, latest_error,
             extract(epoch FROM finished_at - started_at)::float8 AS run_seconds
           FROM runs WHERE id = $1`,
          [run.id],
        )
      ).rows;
      if (['Completed', 'Failed', 'Cancelled', 'TimedOut'].includes(r.status)) {
        const seconds = elapsed(t0);
        return {
          runId: run.id,
          status: r.status,
          rows: Number(r.records_completed),
          seconds,
          runSeconds: Number(r.run_seconds),
          bytesExported: Number(r.bytes_exported),
          outputBytes: Number(r.bytes_exported),
          workerPeakRssMiB: worker.peakRssMiB(),
          workerPeakMemory: await worker.peakBreakdownMiB(),
          phases: await phasesOf(db, run.id, enqueuedAt),
          dataPath: await dataPathOf(db, run.id),
          error: r.latest_error ?? undefined,
        };
      }
      if (r.status === 'FailedRetryable') throw new Error(`${spec.name}: run failed (retryable): ${r.latest_error}`);
      if (Date.now() > deadline) throw new Error(`${spec.name}: run still ${r.status} after ${spec.timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    await worker.stop();
  }
}

export async function dataPathOf(db: Client, runId: string): Promise<'bytes' | 'rows'> {
  const { rows } = await db.query(`SELECT 1 FROM log_entries WHERE run_id = $1 AND message LIKE 'Data path: bytes%' LIMIT 1`, [runId]);
  return rows.length ? 'bytes' : 'rows';
}

async function phasesOf(db: Client, runId: string, enqueuedAt: number): Promise<OutportRun['phases']> {
  const { rows } = await db.query(
    `SELECT extract(epoch FROM r.started_at)::float8 AS started, extract(epoch FROM r.finished_at)::float8 AS finished,
       (SELECT extract(epoch FROM min(l.timestamp))::float8 FROM log_entries l WHERE l.run_id = r.id AND l.message LIKE 'Exporting %') AS exporting
     FROM runs r WHERE r.id = $1`,
    [runId],
  );
  const r = rows[0];
  if (!r?.started || !r.finished || !r.exporting) return undefined;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { queueSeconds: round(r.started - enqueuedAt / 1000), countSeconds: round(r.exporting - r.started), writeSeconds: round(r.finished - r.exporting) };
}
