import { inject, injectable } from 'tsyringe';
import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { TokenScope } from '../store/entities';
import type { ApiContext } from './context';
import { underInput } from './errors';
import { connectionFromList, PageArgs } from './pagination';
import { CreateApiTokenInput, UpdateTeamInput } from './team.input';
import { ApiToken, ApiTokenConnection, CreatedApiToken, Team } from './team.type';
import { TeamService } from './team.service';

@injectable()
@Resolver()
export class TeamResolver {
  constructor(@inject(TeamService) private readonly teamService: TeamService) {}

  @Query(() => Team, { description: "The calling token's team." })
  team(@Ctx() ctx: ApiContext) {
    return this.teamService.team(ctx.teamId);
  }

  @Authorized('write')
  @Mutation(() => Team, { description: 'Omitted fields keep their values; webhookUrl: null or "" removes the webhook.' })
  updateTeam(@Ctx() ctx: ApiContext, @Arg('input', () => UpdateTeamInput, { description: 'The changes.' }) input: UpdateTeamInput) {
    return underInput(() => this.teamService.update(ctx.teamId, { webhookUrl: input.webhookUrl, maxConcurrentBackfills: input.maxConcurrentBackfills }));
  }

  @Query(() => ApiTokenConnection, { description: 'Tokens of the team, revoked ones included, oldest first.' })
  async apiTokens(
    @Ctx() ctx: ApiContext,
    @Args(() => PageArgs) page: PageArgs,
  ) {
    const all = await this.teamService.tokens(ctx.teamId);
    return connectionFromList(all, page, (t) => ({ sortValue: t.createdAt.toISOString(), id: t.id }));
  }

  @Authorized('write')
  @Mutation(() => CreatedApiToken, { description: 'write implies read. The token is in this response only.' })
  createApiToken(@Ctx() ctx: ApiContext, @Arg('input', () => CreateApiTokenInput, { description: 'The new token.' }) input: CreateApiTokenInput) {
    return underInput(() => this.teamService.createToken(ctx.teamId, input.name, input.scopes as TokenScope[]));
  }

  @Authorized('write')
  @Mutation(() => ApiToken, { description: 'Revokes a token at once, closing its open subscriptions; revoking again is harmless.' })
  revokeApiToken(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The token to revoke.' }) id: string) {
    return this.teamService.revokeToken(ctx.teamId, id);
  }
}
