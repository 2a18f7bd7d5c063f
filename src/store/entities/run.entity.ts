import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Replacement } from '../../sdk/replacements';

export const RUN_STATUSES = ['Starting', 'Running', 'Completed', 'Failed', 'FailedRetryable', 'Cancelled', 'TimedOut'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINISHED_RUN_STATUSES: readonly RunStatus[] = ['Completed', 'Failed', 'Cancelled', 'TimedOut'];

export type RunTrigger = 'schedule' | 'backfill' | 'retry';

const bigint = { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

@Entity('runs')
export class RunEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('int', { name: 'team_id' })
  teamId!: number;

  @Column('uuid', { name: 'batch_export_id' })
  batchExportId!: string;

  @Column('uuid', { name: 'backfill_id', nullable: true })
  backfillId!: string | null;

  @Column('timestamptz', { name: 'interval_start' })
  intervalStart!: Date;

  @Column('timestamptz', { name: 'interval_end' })
  intervalEnd!: Date;

  @Column('text')
  status!: RunStatus;

  @Column('text', { default: 'schedule' })
  trigger!: RunTrigger;

  /** Attempts made so far, retries included (0 until a worker first picks the run up). */
  @Column('int', { default: 0 })
  attempt!: number;

  /** Rows the source reported for the interval when the attempt started. */
  @Column('bigint', { name: 'records_total_count', nullable: true, transformer: bigint })
  recordsTotalCount!: number | null;

  /** Rows read from the source by the latest attempt. */
  @Column('bigint', { name: 'records_read', default: 0, transformer: bigint })
  recordsRead!: number;

  /** Rows the destination confirmed landed (reconciled against records_read). */
  @Column('bigint', { name: 'records_completed', default: 0, transformer: bigint })
  recordsCompleted!: number;

  @Column('bigint', { name: 'bytes_exported', default: 0, transformer: bigint })
  bytesExported!: number;

  @Column('text', { name: 'latest_error', nullable: true })
  latestError!: string | null;

  @Column('text', { name: 'error_kind', nullable: true })
  errorKind!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'started_at', nullable: true })
  startedAt!: Date | null;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  @Column('timestamptz', { name: 'heartbeat_at', nullable: true })
  heartbeatAt!: Date | null;

  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true })
  cancelRequestedAt!: Date | null;

  /** When the next retry of a FailedRetryable run is due. */
  @Column('timestamptz', { name: 'next_attempt_at', nullable: true })
  nextAttemptAt!: Date | null;

  @Column('text', { name: 'worker_id', nullable: true })
  workerId!: string | null;

  /** Values the latest attempt changed by a documented lossy rule (source and destination), per column and rule. */
  @Column('jsonb', { default: () => "'[]'" })
  replacements!: Replacement[];
}
