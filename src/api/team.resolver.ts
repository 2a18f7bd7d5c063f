import { inject, injectable } from 'tsyringe';
import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { TokenScope } from '../store/entities';
import type { ApiContext } from './context';
import { TokenScopeEnum } from './enums';
import { ApiToken, CreatedApiToken, Team } from './team.type';
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
  @Mutation(() => Team, { description: 'Omitted arguments keep their values; webhookUrl: null or "" removes the webhook.' })
  updateTeam(
    @Ctx() ctx: ApiContext,
    @Arg('webhookUrl', () => String, { nullable: true }) webhookUrl?: string | null,
    @Arg('maxConcurrentBackfills', () => Int, { nullable: true }) maxConcurrentBackfills?: number | null,
  ) {
    return this.teamService.update(ctx.teamId, { webhookUrl, maxConcurrentBackfills });
  }

  @Query(() => [ApiToken], { description: 'Tokens of the team, revoked ones included.' })
  apiTokens(@Ctx() ctx: ApiContext) {
    return this.teamService.tokens(ctx.teamId);
  }

  @Authorized('write')
  @Mutation(() => CreatedApiToken, { description: 'write implies read. The token is in this response only.' })
  createApiToken(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String) name: string,
    @Arg('scopes', () => [TokenScopeEnum]) scopes: TokenScopeEnum[],
  ) {
    return this.teamService.createToken(ctx.teamId, name, scopes as TokenScope[]);
  }

  @Authorized('write')
  @Mutation(() => ApiToken)
  revokeApiToken(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.teamService.revokeToken(ctx.teamId, id);
  }
}
