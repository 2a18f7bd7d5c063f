import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type TokenScope = 'read' | 'write';

/** Only the SHA-256 of a token is stored; the token itself is shown once, at creation. */
@Entity('api_tokens')
export class ApiTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('int', { name: 'team_id' })
  teamId!: number;

  @Column('text')
  name!: string;

  @Column('text', { name: 'token_hash', unique: true })
  tokenHash!: string;

  /** The first characters of the token (`op_1a2b…`), so a user can tell tokens apart. */
  @Column('text', { name: 'display_prefix' })
  displayPrefix!: string;

  @Column('text', { array: true })
  scopes!: TokenScope[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt!: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
