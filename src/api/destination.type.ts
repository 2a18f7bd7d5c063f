import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ConnectionStepEnum, ErrorKindEnum, FileFormatEnum, ModelEnum } from './enums';
import { ConnectionType } from './pagination';
import { JSONObject } from './scalars';

/** A stored destination. `config` never holds secret values: they read as "********". */
@ObjectType({ description: 'A named, reusable configuration of one destination plugin (credentials and settings) that exports write to.' })
export class Destination {
  @Field(() => ID, { description: 'The destination id.' })
  id!: string;

  @Field({ description: 'The name given on create or update.' })
  name!: string;

  @Field({ description: 'The plugin id (see destinationTypes); immutable.' })
  type!: string;

  @Field(() => JSONObject, { description: 'Settings with secret fields masked as "********".' })
  config!: Record<string, unknown>;

  @Field(() => Date, { description: 'When the destination was created.' })
  createdAt!: Date;

  @Field(() => Date, { description: 'When the destination was last changed.' })
  updatedAt!: Date;
}

@ObjectType({ description: 'A page of destinations.' })
export class DestinationConnection extends ConnectionType('Destination', Destination, { itemsDescription: 'destinations' }) {}

@ObjectType({ description: 'What a destination plugin can do.' })
export class DestinationCapabilities {
  @Field(() => [FileFormatEnum], { nullable: true, description: 'File formats the destination can write; null: it does not write files.' })
  formats!: FileFormatEnum[] | null;

  @Field({ description: 'True when mutable models are merged by key and version.' })
  merge!: boolean;

  @Field(() => Int, { nullable: true, description: "Runs the plugin suggests executing at once against one destination; null: no suggestion." })
  suggestedConcurrency!: number | null;
}

/** A destination plugin in the catalog. */
@ObjectType({ description: 'An installed destination plugin: what it needs (configSchema) and what it can do.' })
export class DestinationType {
  @Field(() => ID, { description: 'The plugin id, given as type when creating a destination.' })
  id!: string;

  @Field({ description: 'A human-readable name.' })
  displayName!: string;

  @Field(() => String, { nullable: true, description: "The plugin's own description." })
  description!: string | null;

  @Field(() => [ModelEnum], { description: 'The data models the plugin can export.' })
  models!: ModelEnum[];

  @Field(() => DestinationCapabilities, { description: 'What the plugin can do.' })
  capabilities!: DestinationCapabilities;

  @Field(() => [String], { description: 'Top-level config fields that are secrets (write-only).' })
  secretFields!: string[];

  @Field(() => JSONObject, { description: 'JSON Schema of the config; field descriptions are the documentation.' })
  configSchema!: Record<string, unknown>;
}

@ObjectType({ description: 'A page of installed destination plugins.' })
export class DestinationTypeConnection extends ConnectionType('DestinationType', DestinationType, { itemsDescription: 'destination plugins' }) {}

// Defined with the API's other enums; re-exported for the modules that import it from here.
export { ConnectionStepEnum } from './enums';

@ObjectType({ description: 'One step of a connection test and its outcome.' })
export class ConnectionTestStep {
  @Field(() => ConnectionStepEnum, { description: 'Which phase this step is.' })
  name!: ConnectionStepEnum;

  @Field({ description: 'Whether the step passed.' })
  ok!: boolean;

  @Field({ description: 'What the step found; for the failing step, what to fix. Never contains a secret.' })
  message!: string;
}

@ObjectType({ description: "The outcome of a destination's connection test." })
export class TestDestinationResult {
  @Field({ description: 'True when every step passed.' })
  ok!: boolean;

  @Field(() => [ConnectionTestStep], {
    description: "The steps the test ran, in order, the failing one last (steps after it did not run). A plugin that reports no steps shows as one CONNECT step.",
  })
  steps!: ConnectionTestStep[];

  @Field(() => ErrorKindEnum, { nullable: true, description: 'How the failure was classified; null when ok.' })
  errorKind!: ErrorKindEnum | null;

  @Field(() => String, { nullable: true, description: 'What failed and what to fix; null when ok.' })
  message!: string | null;
}
