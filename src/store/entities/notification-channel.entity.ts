import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type NotificationChannelKind = 'webhook' | 'slack' | 'email';

/**
 * Where notifications go. `batchExportId` NULL: a team default, applying to every export of the team; otherwise
 * only that export's events. Secrets (the webhook signing secret, the Slack URL, the SMTP password) are sealed
 * with the SecretBox in `secretsEncrypted` and never returned by the API.
 */
@Entity('notification_channels')
export class NotificationChannelEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('int', { name: 'team_id' })
  teamId!: number;

  @Column('uuid', { name: 'batch_export_id', nullable: true })
  batchExportId!: string | null;

  @Column('text')
  name!: string;

  @Column('text')
  kind!: NotificationChannelKind;

  /** Not secret: webhook `url`; email `smtpHost`, `smtpPort`, `smtpSecure`, `smtpUser`, `from`, `to`. */
  @Column('jsonb', { default: {} })
  config!: Record<string, unknown>;

  @Column('text', { name: 'secrets_encrypted', nullable: true })
  secretsEncrypted!: string | null;

  @Column('text', { array: true })
  events!: string[];

  @Column('int', { name: 'slow_run_seconds', nullable: true })
  slowRunSeconds!: number | null;

  @Column('int', { name: 'stale_intervals', nullable: true })
  staleIntervals!: number | null;

  @Column('int', { name: 'rate_limit_seconds', default: 900 })
  rateLimitSeconds!: number;

  @Column('boolean', { default: true })
  enabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
