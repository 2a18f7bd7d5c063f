import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const BACKFILL_STATUSES = ['Starting', 'Running', 'Completed', 'Failed', 'Cancelled'] as const;
export type BackfillStatus = (typeof BACKFILL_STATUSES)[number];

export interface BackfillEstimate {
  rows: number;
  bytes: number;
  runs: number;
  seconds: number;
}

@Entity('backfills')
export class BackfillEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('int', { name: 'team_id' })
  teamId!: number;

  @Column('uuid', { name: 'batch_export_id' })
  batchExportId!: string;

  @Column('timestamptz', { name: 'start_at' })
  startAt!: Date;

  @Column('timestamptz', { name: 'end_at' })
  endAt!: Date;

  @Column('text')
  status!: BackfillStatus;

  @Column('int', { name: 'total_runs', default: 0 })
  totalRuns!: number;

  @Column('jsonb', { nullable: true })
  estimate!: BackfillEstimate | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'finished_at', nullable: true })
  finishedAt!: Date | null;
}
