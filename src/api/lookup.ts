/**
 * Team-scoped loads. An id of another team, a soft-deleted object and a malformed id all answer NOT_FOUND, so
 * the API never reveals what exists outside the caller's team.
 */
import type { EntityManager } from 'typeorm';
import { BackfillEntity, BatchExportEntity, DestinationEntity, RunEntity } from '../store/entities';
import { notFound } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id);
}

type Lock = { lock?: boolean };

function lockOpt(opts: Lock) {
  return opts.lock ? { lock: { mode: 'pessimistic_write' as const } } : {};
}

export async function loadExport(m: EntityManager, teamId: number, id: string, opts: Lock = {}): Promise<BatchExportEntity> {
  const found = isUuid(id) ? await m.getRepository(BatchExportEntity).findOne({ where: { id, teamId }, ...lockOpt(opts) }) : null;
  if (!found || found.deletedAt) throw notFound('Batch export', id);
  return found;
}

export async function loadDestination(m: EntityManager, teamId: number, id: string, opts: Lock & { field?: string } = {}): Promise<DestinationEntity> {
  const found = isUuid(id) ? await m.getRepository(DestinationEntity).findOne({ where: { id, teamId }, ...lockOpt(opts) }) : null;
  if (!found || found.deletedAt) throw notFound('Destination', id);
  return found;
}

export async function loadRun(m: EntityManager, teamId: number, id: string, opts: Lock = {}): Promise<RunEntity> {
  const found = isUuid(id) ? await m.getRepository(RunEntity).findOne({ where: { id, teamId }, ...lockOpt(opts) }) : null;
  if (!found) throw notFound('Run', id);
  return found;
}

export async function loadBackfill(m: EntityManager, teamId: number, id: string, opts: Lock = {}): Promise<BackfillEntity> {
  const found = isUuid(id) ? await m.getRepository(BackfillEntity).findOne({ where: { id, teamId }, ...lockOpt(opts) }) : null;
  if (!found) throw notFound('Backfill', id);
  return found;
}
