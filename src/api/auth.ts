/**
 * API-token authentication. Tokens are looked up by SHA-256 hash; `last_used_at` is refreshed at most once a
 * minute per token so reads do not turn into a write per request.
 */
import type { AuthCheckerFn } from 'type-graphql';
import type { DataSource } from 'typeorm';
import { ApiTokenEntity } from '../store/entities';
import { hashToken, TOKEN_PREFIX } from '../store/tokens';
import type { ApiContext } from './context';
import { forbidden, unauthenticated } from './errors';

const LAST_USED_RESOLUTION_MS = 60_000;

/** Pulls the token out of `Bearer op_...` (or a bare `op_...`, as graphql-ws clients often send it). */
export function tokenFromHeader(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  const m = /^Bearer\s+(\S+)$/i.exec(v);
  const token = m ? m[1] : v;
  return token.startsWith(TOKEN_PREFIX) ? token : undefined;
}

export async function authenticate(ds: DataSource, token: string | undefined, now = new Date()): Promise<Omit<ApiContext, 'container' | 'loaders'>> {
  if (!token) throw unauthenticated();
  const row = await ds.getRepository(ApiTokenEntity).findOneBy({ tokenHash: hashToken(token) });
  if (!row) throw unauthenticated('Unknown API token');
  if (row.revokedAt) throw unauthenticated('This API token was revoked');
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    // The WHERE repeats the throttle so concurrent requests do not all write.
    await ds.query(
      `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`,
      [row.id, now],
    );
  }
  return { teamId: row.teamId, tokenId: row.id, scopes: row.scopes };
}

/** `@Authorized('write')` on mutations: a read-only token gets FORBIDDEN. */
export const scopeChecker: AuthCheckerFn<ApiContext> = ({ context }, required) => {
  if (!context?.teamId) throw unauthenticated();
  const missing = required.filter((s) => !context.scopes.includes(s as never));
  if (missing.length) throw forbidden(`This API token lacks the '${missing.join("', '")}' scope`);
  return true;
};
