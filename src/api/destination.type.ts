import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ModelEnum } from './enums';
import { JSONObject } from './scalars';

/** A stored destination. `config` never holds secret values: they read as "********". */
@ObjectType()
export class Destination {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field({ description: 'The plugin id (see destinationTypes); immutable.' })
  type!: string;

  @Field(() => JSONObject, { description: 'Settings with secret fields masked as "********".' })
  config!: Record<string, unknown>;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

@ObjectType()
export class DestinationCapabilities {
  @Field(() => [String], { nullable: true })
  formats!: string[] | null;

  @Field({ description: 'True when mutable models are merged by key and version.' })
  merge!: boolean;

  @Field(() => Int, { nullable: true })
  suggestedConcurrency!: number | null;
}

/** A destination plugin in the catalog. */
@ObjectType()
export class DestinationType {
  @Field(() => ID)
  id!: string;

  @Field()
  displayName!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [ModelEnum])
  models!: ModelEnum[];

  @Field(() => DestinationCapabilities)
  capabilities!: DestinationCapabilities;

  @Field(() => [String], { description: 'Top-level config fields that are secrets (write-only).' })
  secretFields!: string[];

  @Field(() => JSONObject, { description: 'JSON Schema of the config; field descriptions are the documentation.' })
  configSchema!: Record<string, unknown>;
}

@ObjectType()
export class TestDestinationResult {
  @Field()
  ok!: boolean;

  @Field(() => String, { nullable: true, description: 'retryable, permanent or config; null when ok.' })
  errorKind!: string | null;

  @Field(() => String, { nullable: true })
  message!: string | null;
}
