import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Model } from '../../sdk';
import type { IntervalKind } from '../../scheduler/intervals';
import type { CustomQuery } from '../../source/custom-query';
import type { FieldSelection } from '../../source/fields';
import type { SchemaMode } from '../../sdk/schema-evolution';
import type { ExportLayout } from '../../source/posthog-layout';

export interface StoredPropertyFilter {
  key: string;
  operator: string;
  value?: string | number | string[] | null;
}

@Entity('batch_exports')
export class BatchExportEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('int', { name: 'team_id' })
  teamId!: number;

  @Column('text')
  name!: string;

  @Column('uuid', { name: 'destination_id' })
  destinationId!: string;

  @Column('text')
  model!: Model;

  @Column('text')
  interval!: IntervalKind;

  @Column('text', { default: 'UTC' })
  timezone!: string;

  @Column('int', { name: 'offset_hour', default: 0 })
  offsetHour!: number;

  @Column('int', { name: 'offset_day', default: 0 })
  offsetDay!: number;

  @Column('text', { name: 'include_events', array: true, default: '{}' })
  includeEvents!: string[];

  @Column('text', { name: 'exclude_events', array: true, default: '{}' })
  excludeEvents!: string[];

  @Column('jsonb', { default: '[]' })
  filters!: StoredPropertyFilter[];

  @Column('timestamptz', { name: 'start_at', nullable: true })
  startAt!: Date | null;

  @Column('timestamptz', { name: 'end_at', nullable: true })
  endAt!: Date | null;

  @Column('boolean', { default: false })
  paused!: boolean;

  @Column('timestamptz', { name: 'paused_at', nullable: true })
  pausedAt!: Date | null;

  /** Why the export is paused: set by auto-pause, empty when a user paused it. */
  @Column('text', { name: 'paused_reason', nullable: true })
  pausedReason!: string | null;

  /** When a user last unpaused the export: the automatic pause counts only failures since then. */
  @Column('timestamptz', { name: 'unpaused_at', nullable: true })
  unpausedAt!: Date | null;

  /** End of the last interval the scheduler created a run for: where the next tick resumes (catch-up after downtime). */
  @Column('timestamptz', { name: 'scheduled_until', nullable: true })
  scheduledUntil!: Date | null;

  /** Most runs of this export executing at once; events only (see src/worker/run-queue.ts). */
  @Column('int', { name: 'max_concurrent_runs', default: 4 })
  maxConcurrentRuns!: number;

  /** The columns the export writes (src/source/fields.ts); null: every column of the model. */
  @Column('jsonb', { nullable: true })
  fields!: FieldSelection[] | null;

  /** A custom query export (src/source/custom-query.ts); `model` is then events (append) or persons (merge). */
  @Column('jsonb', { name: 'custom_query', nullable: true })
  customQuery!: CustomQuery | null;

  /** EVOLVE or FROZEN: how runs treat a destination table whose columns differ (src/sdk/schema-evolution.ts). */
  @Column('text', { name: 'schema_mode', default: 'EVOLVE' })
  schemaMode!: SchemaMode;

  /** OUTPORT or POSTHOG: whose column layout the export writes (src/source/posthog-layout.ts). */
  @Column('text', { default: 'OUTPORT' })
  layout!: ExportLayout;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
