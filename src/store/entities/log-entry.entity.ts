import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

@Entity('log_entries')
export class LogEntryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column('int', { name: 'team_id' })
  teamId!: number;

  @Column('uuid', { name: 'batch_export_id' })
  batchExportId!: string;

  @Column('uuid', { name: 'run_id', nullable: true })
  runId!: string | null;

  @Column('text')
  level!: LogLevel;

  @Column('text')
  message!: string;

  @Column('timestamptz', { default: () => 'now()' })
  timestamp!: Date;
}
