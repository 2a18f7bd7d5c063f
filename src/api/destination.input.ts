import { Field, ID, InputType } from 'type-graphql';
import { JSONObject } from './scalars';

@InputType({ description: 'A new destination: a named, reusable configuration of one destination plugin.' })
export class CreateDestinationInput {
  @Field({ description: 'A name to tell destinations apart (1-200 characters).' })
  name!: string;

  @Field({ description: 'The plugin id (see destinationTypes); cannot change later.' })
  type!: string;

  @Field(() => JSONObject, {
    description: "The plugin's settings, validated against its configSchema (keys it does not define are refused); secret fields are encrypted at rest and never returned.",
  })
  config!: Record<string, unknown>;
}

@InputType({ description: 'Changes to a destination; omitted fields keep their values.' })
export class UpdateDestinationInput {
  @Field(() => ID, { description: 'The destination to change.' })
  id!: string;

  @Field(() => String, { nullable: true, description: 'A new name (1-200 characters).' })
  name?: string | null;

  @Field(() => JSONObject, {
    nullable: true,
    description: 'Deep-merged onto the stored settings; omitted (or "********") secrets keep their values. The result is validated as on create.',
  })
  config?: Record<string, unknown> | null;
}

@InputType({ description: 'A destination configuration to test before it is saved.' })
export class TestDestinationConfigInput {
  @Field({ description: 'The plugin id (see destinationTypes).' })
  type!: string;

  @Field(() => JSONObject, { description: 'The settings as createDestination takes them, secrets included; nothing is stored.' })
  config!: Record<string, unknown>;

  @Field(() => ID, {
    nullable: true,
    description: 'Test unsaved changes of this saved destination: config is merged onto its stored settings as updateDestination would (omitted or "********" secrets keep their stored values).',
  })
  destinationId?: string | null;
}
