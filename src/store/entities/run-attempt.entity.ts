import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

const bigint = { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

/**
 * One attempt of one run, written by the worker when it claims the run and when the attempt ends (see
 * src/worker/run-attempts.ts). Status is the run status the attempt ended with, `Running` while it runs, or `Lost`
 * when its worker stopped heartbeating and another attempt took the run over.
 */
@Entity('run_attempts')
export class RunAttemptEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'run_id' })
  runId!: string;

  @Column('int', { name: 'team_id' })
  teamId!: number;

  /** The run's attempt counter at the claim (1 for the first attempt; a user's retry counts from 1 again). */
  @Column('int')
  attempt!: number;

  @Column('text', { name: 'worker_id', nullable: true })
  workerId!: string | null;

  @Column('timestamptz', { name: 'started_at' })
  startedAt!: Date;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;

  @Column('text')
  status!: string;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('text', { name: 'error_kind', nullable: true })
  errorKind!: string | null;

  @Column('bigint', { name: 'records_read', default: 0, transformer: bigint })
  recordsRead!: number;

  @Column('bigint', { name: 'records_completed', default: 0, transformer: bigint })
  recordsCompleted!: number;

  @Column('bigint', { name: 'bytes_exported', default: 0, transformer: bigint })
  bytesExported!: number;
}
