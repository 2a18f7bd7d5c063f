import { Field, ID, InputType } from 'type-graphql';
import { JSONObject } from './scalars';

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
