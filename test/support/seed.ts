/** Seeds metadata rows directly (teams, tokens, destinations, exports) for tests that are not about the API. */
import type { DataSource } from 'typeorm';
import { SecretBox } from '../../src/store/secrets';
import { displayPrefix, generateToken, hashToken } from '../../src/store/tokens';

export async function seedToken(ds: DataSource, teamId: number, scopes: string[] = ['read', 'write'], revoked = false): Promise<string> {
  const token = generateToken();
  await ds.query(
    `INSERT INTO api_tokens (team_id, name, token_hash, display_prefix, scopes, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [teamId, scopes.join('+'), hashToken(token), displayPrefix(token), scopes, revoked ? new Date() : null],
  );
  return token;
}

export async function seedTeam(ds: DataSource, name = 'team'): Promise<{ teamId: number; token: string }> {
  const [team] = await ds.query(`INSERT INTO teams (name) VALUES ($1) RETURNING id`, [name]);
  return { teamId: team.id, token: await seedToken(ds, team.id) };
}

export async function seedDestination(
  ds: DataSource,
  box: SecretBox,
  teamId: number,
  type: string,
  config: Record<string, unknown>,
  secrets: Record<string, unknown> = {},
): Promise<string> {
  const [d] = await ds.query(
    `INSERT INTO destinations (team_id, name, type, config, encrypted_secrets) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [teamId, `${type} destination`, type, config, Object.keys(secrets).length ? box.encrypt(secrets) : null],
  );
  return d.id;
}

export interface ExportSeed {
  teamId: number;
  destinationId: string;
  model?: string;
  interval?: string;
  timezone?: string;
  offsetHour?: number;
  offsetDay?: number;
  scheduledUntil?: Date | null;
  startAt?: Date | null;
  endAt?: Date | null;
  paused?: boolean;
  createdAt?: Date;
  name?: string;
}

export async function seedExport(ds: DataSource, e: ExportSeed): Promise<string> {
  const [row] = await ds.query(
    `INSERT INTO batch_exports (team_id, name, destination_id, model, interval, timezone, offset_hour, offset_day, scheduled_until, start_at, end_at, paused, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, COALESCE($13, now())) RETURNING id`,
    [
      e.teamId, e.name ?? 'export', e.destinationId, e.model ?? 'events', e.interval ?? 'hour', e.timezone ?? 'UTC', e.offsetHour ?? 0,
      e.offsetDay ?? 0, e.scheduledUntil ?? null, e.startAt ?? null, e.endAt ?? null, e.paused ?? false, e.createdAt ?? null,
    ],
  );
  return row.id;
}
