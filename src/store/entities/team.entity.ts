import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('teams')
export class TeamEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column('text')
  name!: string;

  /** Where failure and auto-pause notifications go (JSON; Slack incoming-webhook compatible). */
  @Column('text', { name: 'webhook_url', nullable: true })
  webhookUrl!: string | null;

  @Column('int', { name: 'max_concurrent_backfills', default: 2 })
  maxConcurrentBackfills!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
