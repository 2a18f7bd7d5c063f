import { inject, injectable } from 'tsyringe';
import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { DestinationEntity } from '../store/entities';
import type { ApiContext } from './context';
import { Destination, DestinationType, TestDestinationResult } from './destination.type';
import { DestinationService } from './destination.service';
import { TestDestinationConfigInput } from './destination.input';
import { JSONObject } from './scalars';

@injectable()
@Resolver(() => Destination)
export class DestinationResolver {
  constructor(@inject(DestinationService) private readonly destinationService: DestinationService) {}

  @Query(() => [Destination])
  destinations(@Ctx() ctx: ApiContext) {
    return this.destinationService.list(ctx.teamId);
  }

  @Query(() => Destination)
  destination(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.destinationService.get(ctx.teamId, id);
  }

  @Query(() => [DestinationType], { description: 'Installed destination plugins.' })
  destinationTypes() {
    return this.destinationService.catalog();
  }

  @FieldResolver(() => JSONObject)
  config(@Root() d: DestinationEntity) {
    return this.destinationService.maskedConfig(d);
  }

  @Authorized('write')
  @Mutation(() => Destination, { description: 'config is validated by the plugin; secret fields are encrypted at rest and never returned.' })
  createDestination(
    @Ctx() ctx: ApiContext,
    @Arg('name', () => String) name: string,
    @Arg('type', () => String) type: string,
    @Arg('config', () => JSONObject, { validate: false }) config: Record<string, unknown>,
  ) {
    return this.destinationService.create(ctx.teamId, name, type, config);
  }

  @Authorized('write')
  @Mutation(() => Destination, { description: 'config is deep-merged onto the stored one; omitted (or "********") secrets keep their values. type is immutable.' })
  updateDestination(
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID) id: string,
    @Arg('name', () => String, { nullable: true }) name?: string,
    @Arg('config', () => JSONObject, { nullable: true, validate: false }) config?: Record<string, unknown>,
  ) {
    return this.destinationService.update(ctx.teamId, id, name, config);
  }

  @Authorized('write')
  @Mutation(() => Destination, { description: 'Refused while a live export uses the destination.' })
  deleteDestination(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.destinationService.delete(ctx.teamId, id);
  }

  @Authorized('write')
  @Mutation(() => TestDestinationResult, {
    description: "Tests a configuration before it is saved: the plugin's connection check (15 s timeout) reported step by step; nothing is stored, and no data is written.",
  })
  testDestinationConfig(@Ctx() ctx: ApiContext, @Arg('input', () => TestDestinationConfigInput, { validate: false }) input: TestDestinationConfigInput) {
    return this.destinationService.testConfig(ctx.teamId, input.type, input.config, input.destinationId);
  }

  @Authorized('write')
  @Mutation(() => TestDestinationResult, { description: "Runs the plugin's connection check (15 s timeout) reported step by step, without writing data." })
  testDestination(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string) {
    return this.destinationService.test(ctx.teamId, id);
  }
}
