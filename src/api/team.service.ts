/** The caller's team and its API tokens. */
import { inject, injectable } from 'tsyringe';
import type { DataSource } from 'typeorm';
import { ApiTokenEntity, TeamEntity, type TokenScope } from '../store/entities';
import { publishChange } from '../store/event-bus';
import { displayPrefix, generateToken, hashToken } from '../store/tokens';
import type { Config } from '../config';
import { parseNetworkPolicy, type NetworkPolicy } from '../plugins/network-policy';
import { CLOCK, CONFIG, DATA_SOURCE, type Clock } from '../tokens';
import { badInput, notFound } from './errors';
import { isUuid } from './lookup';

export const MAX_CONCURRENT_BACKFILLS_LIMIT = 100;

@injectable()
export class TeamService {
  constructor(
    @inject(DATA_SOURCE) private readonly ds: DataSource,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) config: Pick<Config, 'OUTPORT_DESTINATION_NETWORKS'>,
  ) {
    this.network = parseNetworkPolicy(config.OUTPORT_DESTINATION_NETWORKS);
  }

  private readonly network: NetworkPolicy;

  async team(teamId: number): Promise<TeamEntity> {
    const team = await this.ds.getRepository(TeamEntity).findOneBy({ id: teamId });
    if (!team) throw notFound('Team', String(teamId));
    return team;
  }

  async update(teamId: number, patch: { webhookUrl?: string | null; maxConcurrentBackfills?: number | null }): Promise<TeamEntity> {
    const team = await this.team(teamId);
    if (patch.webhookUrl !== undefined) {
      team.webhookUrl = checkWebhookUrl(patch.webhookUrl);
      if (team.webhookUrl) {
        try {
          await this.network.checkHost(new URL(team.webhookUrl).hostname);
        } catch (err) {
          throw badInput('webhookUrl', (err as Error).message);
        }
      }
    }
    if (patch.maxConcurrentBackfills !== undefined && patch.maxConcurrentBackfills !== null) {
      const n = patch.maxConcurrentBackfills;
      if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENT_BACKFILLS_LIMIT) {
        throw badInput('maxConcurrentBackfills', `must be a whole number from 1 to ${MAX_CONCURRENT_BACKFILLS_LIMIT}`);
      }
      team.maxConcurrentBackfills = n;
    }
    return this.ds.getRepository(TeamEntity).save(team);
  }

  tokens(teamId: number): Promise<ApiTokenEntity[]> {
    return this.ds.getRepository(ApiTokenEntity).find({ where: { teamId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Returns the token itself once; only its hash is stored. */
  async createToken(teamId: number, name: string, scopes: TokenScope[]): Promise<{ token: string; apiToken: ApiTokenEntity }> {
    const trimmed = name.trim();
    if (!trimmed) throw badInput('name', 'must not be empty');
    if (trimmed.length > 200) throw badInput('name', 'must be at most 200 characters');
    if (!scopes.length) throw badInput('scopes', 'give at least one scope (READ, WRITE)');
    const unique = [...new Set<TokenScope>(scopes.includes('write') ? ['read', 'write'] : scopes)];
    const token = generateToken();
    const apiToken = await this.ds.getRepository(ApiTokenEntity).save(
      this.ds.getRepository(ApiTokenEntity).create({ teamId, name: trimmed, tokenHash: hashToken(token), displayPrefix: displayPrefix(token), scopes: unique }),
    );
    return { token, apiToken };
  }

  async revokeToken(teamId: number, id: string): Promise<ApiTokenEntity> {
    const row = isUuid(id) ? await this.ds.getRepository(ApiTokenEntity).findOneBy({ id, teamId }) : null;
    if (!row) throw notFound('API token', id);
    if (!row.revokedAt) {
      row.revokedAt = this.clock.now();
      await this.ds.getRepository(ApiTokenEntity).save(row);
    }
    // Also when already revoked: a repeated revoke is how a client makes sure every socket is gone.
    await publishChange(this.ds, { kind: 'token-revoked', teamId, tokenId: row.id, at: new Date().toISOString() });
    return row;
  }
}

function checkWebhookUrl(value: string | null): string | null {
  if (value === null || value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw badInput('webhookUrl', 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badInput('webhookUrl', `must use http or https, not ${url.protocol}`);
  if (value.length > 2000) throw badInput('webhookUrl', 'must be at most 2000 characters');
  return url.toString();
}
