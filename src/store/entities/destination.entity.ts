import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A named, reusable destination: several exports may share one set of credentials. */
@Entity('destinations')
export class DestinationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('int', { name: 'team_id' })
  teamId!: number;

  @Column('text')
  name!: string;

  /** The plugin id; immutable after creation. */
  @Column('text')
  type!: string;

  /** Non-secret settings. */
  @Column('jsonb')
  config!: Record<string, unknown>;

  /** Secret settings as one AES-256-GCM blob (see src/store/secrets.ts); never leaves the server. */
  @Column('text', { name: 'encrypted_secrets', nullable: true })
  encryptedSecrets!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
