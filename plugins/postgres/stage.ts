/**
 * The per-run staging table: UNLOGGED (no WAL for data that lives minutes), named from the runId so every
 * attempt of a run uses the same name and a leftover from a killed attempt is found and replaced.
 */
import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import { DestinationError, type ModelSchema } from '../../src/sdk';
import { qualified } from '../../src/sdk/pgwire';
import { columnDefinition } from './ddl';

export const STAGE_PREFIX = '_outport_stage_';

function digest(runId: string): Buffer {
  return createHash('sha256').update(runId).digest();
}

/** 39 bytes, well under the 63-byte identifier limit, whatever the runId. */
export function stageTableName(runId: string): string {
  return STAGE_PREFIX + digest(runId).toString('hex').slice(0, 24);
}

/** Advisory lock key for a run: a zombie attempt still writing must not share the stage with its retry. */
export function runLockKey(runId: string): string {
  return digest('outport-run-lock:' + runId).readBigInt64BE(0).toString();
}

export async function lockRun(client: Client, runId: string): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [runLockKey(runId)]);
  if (!rows[0]?.ok) {
    throw new DestinationError('retryable', 'Another attempt of this run is still writing to Postgres (its session holds the run lock); retrying later.', {
      code: 'RUN_LOCKED',
    });
  }
}

export async function unlockRun(client: Client, runId: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1::bigint)', [runLockKey(runId)]);
}

/** Drops any leftover of an earlier attempt and creates the stage empty. Returns true when a leftover was found. */
export async function recreateStage(client: Client, schemaName: string, stage: string, model: ModelSchema): Promise<boolean> {
  const dropped = await dropLeftoverStage(client, schemaName, stage);
  // No constraints: COPY is fastest into a bare heap, and the final table's constraints check the merge.
  const columns = model.columns.map((c) => columnDefinition(c, false)).join(', ');
  await client.query(`CREATE UNLOGGED TABLE ${qualified(schemaName, stage)} (${columns})`);
  return dropped;
}

/** Drops the stage an earlier attempt of the run left; true when there was one. */
export async function dropLeftoverStage(client: Client, schemaName: string, stage: string): Promise<boolean> {
  const { rowCount } = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schemaName, stage],
  );
  if (rowCount) await client.query(`DROP TABLE IF EXISTS ${qualified(schemaName, stage)}`);
  return (rowCount ?? 0) > 0;
}

export async function dropStage(client: Client, schemaName: string, stage: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${qualified(schemaName, stage)}`);
}
