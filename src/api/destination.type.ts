import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
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

/** Values are the SDK's `ConnectionStep` names. */
export enum ConnectionStepEnum {
  CONNECT = 'connect',
  AUTHENTICATE = 'authenticate',
  PERMISSIONS = 'permissions',
  WRITE_PROBE = 'write_probe',
}
registerEnumType(ConnectionStepEnum, {
  name: 'ConnectionStep',
  description: 'A phase of a connection test: reach the destination, sign in, check the access a run needs, write a probe that leaves nothing behind.',
});

@ObjectType()
export class ConnectionTestStep {
  @Field(() => ConnectionStepEnum)
  name!: ConnectionStepEnum;

  @Field()
  ok!: boolean;

  @Field({ description: 'What the step found; for the failing step, what to fix. Never contains a secret.' })
  message!: string;
}

@ObjectType()
export class TestDestinationResult {
  @Field()
  ok!: boolean;

  @Field(() => [ConnectionTestStep], {
    description: "The steps the test ran, in order, the failing one last (steps after it did not run). A plugin that reports no steps shows as one CONNECT step.",
  })
  steps!: ConnectionTestStep[];

  @Field(() => String, { nullable: true, description: 'retryable, permanent or config; null when ok.' })
  errorKind!: string | null;

  @Field(() => String, { nullable: true })
  message!: string | null;
}
