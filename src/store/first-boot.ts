/** First boot of an empty store: a default team and a read/write API token, printed once by main.ts. */
import type { DataSource } from 'typeorm';
import { displayPrefix, generateToken, hashToken } from './tokens';

export async function createFirstTeam(ds: DataSource): Promise<{ teamId: number; token: string } | undefined> {
  return ds.transaction(async (m) => {
    // Two processes booting at once on an empty store: the advisory lock makes one of them do it.
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('outport:first-boot'))`);
    const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM teams`);
    if (n > 0) return undefined;
    const [team] = await m.query(`INSERT INTO teams (name) VALUES ('Default team') RETURNING id`);
    const token = generateToken();
    await m.query(
      `INSERT INTO api_tokens (team_id, name, token_hash, display_prefix, scopes) VALUES ($1, 'First token', $2, $3, '{read,write}')`,
      [team.id, hashToken(token), displayPrefix(token)],
    );
    return { teamId: team.id as number, token };
  });
}
