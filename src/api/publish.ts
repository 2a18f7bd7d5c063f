/** Change notifications for what a write touched, sent after commit so subscribers never see uncommitted state. */
import type { DataSource } from 'typeorm';
import type { BackfillEntity, RunEntity } from '../store/entities';
import { publishChange } from '../store/event-bus';
import { publishRun } from '../worker/run-queue';

export interface Touched {
  runs: RunEntity[];
  backfills: Pick<BackfillEntity, 'id' | 'teamId' | 'batchExportId'>[];
}

export async function publishTouched(ds: DataSource, touched: Touched): Promise<void> {
  for (const run of touched.runs) await publishRun(ds, run);
  for (const b of touched.backfills) {
    await publishChange(ds, { kind: 'backfill', teamId: b.teamId, batchExportId: b.batchExportId, backfillId: b.id, at: new Date().toISOString() });
  }
}
