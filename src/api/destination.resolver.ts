import { inject, injectable } from 'tsyringe';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { DestinationEntity } from '../store/entities';
import type { ApiContext } from './context';
import { Destination, DestinationConnection, DestinationTypeConnection, TestDestinationResult } from './destination.type';
import { DestinationService } from './destination.service';
import { CreateDestinationInput, TestDestinationConfigInput, UpdateDestinationInput } from './destination.input';
import { underInput } from './errors';
import { connectionFromList, PageArgs } from './pagination';
import { JSONObject } from './scalars';

@injectable()
@Resolver(() => Destination)
export class DestinationResolver {
  constructor(@inject(DestinationService) private readonly destinationService: DestinationService) {}

  @Query(() => DestinationConnection, { description: "The team's destinations, oldest first." })
  async destinations(
    @Ctx() ctx: ApiContext,
    @Args(() => PageArgs) page: PageArgs,
  ) {
    const all = await this.destinationService.list(ctx.teamId);
    return connectionFromList(all, page, (d) => ({ sortValue: d.createdAt.toISOString(), id: d.id }));
  }

  @Query(() => Destination, { nullable: true, description: 'One destination; null (with a NOT_FOUND error) when the team has none with this id.' })
  destination(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The destination id.' }) id: string) {
    return this.destinationService.get(ctx.teamId, id);
  }

  @Query(() => DestinationTypeConnection, { description: 'Installed destination plugins, by id.' })
  destinationTypes(
    @Args(() => PageArgs) page: PageArgs,
  ) {
    return connectionFromList(this.destinationService.catalog(), page, (t) => ({ sortValue: t.id, id: t.id }));
  }

  @FieldResolver(() => JSONObject, { description: 'Settings with secret fields masked as "********".' })
  config(@Root() d: DestinationEntity) {
    return this.destinationService.maskedConfig(d);
  }

  @Authorized('write')
  @Mutation(() => Destination, { description: 'config is validated by the plugin; secret fields are encrypted at rest and never returned.' })
  createDestination(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => CreateDestinationInput, { validate: false, description: 'The new destination.' }) input: CreateDestinationInput,
  ) {
    return underInput(() => this.destinationService.create(ctx.teamId, input.name, input.type, input.config));
  }

  @Authorized('write')
  @Mutation(() => Destination, { description: 'config is deep-merged onto the stored one; omitted (or "********") secrets keep their values. type is immutable.' })
  updateDestination(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => UpdateDestinationInput, { validate: false, description: 'The destination and its changes.' }) input: UpdateDestinationInput,
  ) {
    return underInput(() => this.destinationService.update(ctx.teamId, input.id, input.name, input.config));
  }

  @Authorized('write')
  @Mutation(() => Destination, { description: 'Soft delete, refused while a live export uses the destination.' })
  deleteDestination(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The destination to delete.' }) id: string) {
    return this.destinationService.delete(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => TestDestinationResult, {
    description: "Tests a configuration before it is saved: the plugin's connection check (15 s timeout) reported step by step; nothing is stored, and no data is written.",
  })
  testDestinationConfig(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => TestDestinationConfigInput, { validate: false, description: 'The configuration to test.' }) input: TestDestinationConfigInput,
  ) {
    return this.destinationService.testConfig(ctx.teamId, input.type, input.config, input.destinationId);
  }

  @Authorized('write')
  @Mutation(() => TestDestinationResult, { description: "Runs the plugin's connection check (15 s timeout) reported step by step, without writing data." })
  testDestination(@Ctx() ctx: ApiContext, @Arg('id', () => ID, { description: 'The saved destination to test.' }) id: string) {
    return this.destinationService.test(ctx.teamId, id);
  }
}
