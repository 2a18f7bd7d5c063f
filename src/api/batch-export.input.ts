import { ArrayMaxSize, IsOptional, Length, MaxLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int, registerEnumType } from 'type-graphql';
import { IntervalEnum, ModelEnum, PropertyFilterTypeEnum } from './enums';
import { JSON } from './scalars';

export const NAME_MAX = 200;
export const EVENT_LIST_MAX = 1000;
export const FILTERS_MAX = 100;
/** Highest `maxConcurrentRuns` an export may ask for (one backfill cannot use more workers than this). */
export const MAX_CONCURRENT_RUNS_LIMIT = 32;

@InputType()
export class PropertyFilterInput {
  @Field({ description: 'Top-level property name, e.g. `$browser`.' })
  @Length(1, 1000)
  key!: string;

  @Field({ description: 'One of: exact, is_not, icontains, not_icontains, regex (RE2), is_set, is_not_set, gt, lt.' })
  operator!: string;

  @Field(() => JSON, {
    nullable: true,
    description: 'exact/is_not: a string, number or boolean, or a list of them; icontains/not_icontains/regex: a string; gt/lt: a number; is_set/is_not_set: omitted.',
  })
  value?: unknown;

  @Field(() => PropertyFilterTypeEnum, { nullable: true, description: "Where the property lives. Default: EVENT (the event's properties)." })
  type?: PropertyFilterTypeEnum | null;
}

export enum FieldTypeEnum {
  STRING = 'string',
  NUMBER = 'number',
  BOOLEAN = 'boolean',
  TIMESTAMP = 'timestamp',
  JSON = 'json',
}
registerEnumType(FieldTypeEnum, { name: 'FieldType', description: 'Type of a value extracted from a JSON column.' });

export enum IncrementalModeEnum {
  APPEND = 'append',
  MERGE = 'merge',
}
registerEnumType(IncrementalModeEnum, {
  name: 'IncrementalMode',
  description: 'APPEND: immutable rows, each primary key landed once (like events). MERGE: a row replaces the stored one with its key when its version is higher (like persons).',
});

/** Values are src/source/posthog-layout.ts's ExportLayout, stored as is. */
export enum ExportLayoutEnum {
  OUTPORT = 'OUTPORT',
  POSTHOG = 'POSTHOG',
}
registerEnumType(ExportLayoutEnum, {
  name: 'ExportLayout',
  description: 'Whose column layout an export writes.',
  valuesConfig: {
    OUTPORT: { description: 'Outport\'s model columns, or the export\'s fields.' },
    POSTHOG: { description: 'For events: the columns PostHog\'s batch exports write to this kind of destination (Postgres, Redshift, BigQuery, Snowflake, S3, local files), filled as PostHog fills them, so an existing PostHog table keeps receiving rows. File keys follow PostHog\'s names inside the export\'s own folder. See the README, "Migrating from PostHog batch exports".' },
  },
});

/** Values are the SDK's SchemaMode (src/sdk/schema-evolution.ts), stored as is. */
export enum SchemaModeEnum {
  EVOLVE = 'EVOLVE',
  FROZEN = 'FROZEN',
}
registerEnumType(SchemaModeEnum, {
  name: 'SchemaMode',
  description: 'What a run does when the destination table\'s columns differ from what the export writes.',
  valuesConfig: {
    EVOLVE: { description: 'Add the columns the table lacks (nullable; stored rows hold NULL) and make NOT NULL columns the export no longer writes nullable. Never drops or retypes a column. File destinations always write the export\'s current columns.' },
    FROZEN: { description: 'Change nothing: a run whose columns differ from the table\'s fails with a message saying how to proceed.' },
  },
});

@InputType({ description: 'One column of the export: a model column (`uuid`), renamed with alias, or a JSON path (`properties.$browser`) with an alias and a type.' })
export class ExportFieldInput {
  @Field({ description: 'A column of the model, or a JSON column and keys separated by dots: `properties.$browser`, `properties.$set.email`.' })
  @Length(1, 1000)
  source!: string;

  @Field(() => String, { nullable: true, description: 'Column name at the destination (letters, digits, underscore). Required for a JSON path.' })
  alias?: string | null;

  @Field(() => FieldTypeEnum, { nullable: true, description: 'JSON paths only. Default: STRING.' })
  type?: FieldTypeEnum | null;
}

@InputType({ description: 'An export defined by a ClickHouse SELECT (see the README: custom queries and their safety model).' })
export class CustomQueryInput {
  @Field({ description: 'A ClickHouse SELECT using {data_interval_start} and {data_interval_end}; it reads only your team\'s rows of the allowed tables.' })
  @Length(1, 100_000)
  query!: string;

  @Field(() => [String], { description: 'Output columns identifying a row at the destination.' })
  @ArrayMaxSize(32)
  primaryKey!: string[];

  @Field(() => [String], { nullable: true, description: 'MERGE: output columns compared, in order, to decide whether a row replaces the stored one.' })
  @IsOptional()
  @ArrayMaxSize(32)
  versionKey?: string[] | null;

  @Field(() => IncrementalModeEnum, { defaultValue: IncrementalModeEnum.APPEND })
  mode!: IncrementalModeEnum;
}

@InputType()
export class CreateBatchExportInput {
  @Field()
  @Length(1, NAME_MAX)
  name!: string;

  @Field(() => ID)
  destinationId!: string;

  @Field(() => ModelEnum, { defaultValue: ModelEnum.EVENTS })
  model!: ModelEnum;

  @Field(() => IntervalEnum)
  interval!: IntervalEnum;

  @Field({ defaultValue: 'UTC' })
  timezone!: string;

  @Field(() => Int, { nullable: true, description: 'DAY and WEEK only: hour of the local day (0-23). Default: 0.' })
  offsetHour?: number | null;

  @Field(() => Int, { nullable: true, description: 'WEEK only: weekday, 0 = Sunday. Default: 0.' })
  offsetDay?: number | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  includeEvents?: string[] | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  excludeEvents?: string[] | null;

  @Field(() => [PropertyFilterInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(FILTERS_MAX)
  @ValidateNested({ each: true })
  filters?: PropertyFilterInput[] | null;

  @Field(() => Date, { nullable: true })
  startAt?: Date | null;

  @Field(() => Date, { nullable: true })
  endAt?: Date | null;

  @Field({ defaultValue: false })
  paused!: boolean;

  @Field(() => Int, { nullable: true, description: 'Most runs of this export executing at once (1-32): runs of an events export, of a backfill or of the schedule catching up, execute up to this many at a time on any worker processes and machines. Persons and sessions exports always run one at a time in interval order. Default: 4.' })
  maxConcurrentRuns?: number | null;

  @Field(() => [ExportFieldInput], { nullable: true, description: 'The columns to export (default: every column of the model). The model\'s key and version columns must stay selected.' })
  @IsOptional()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  fields?: ExportFieldInput[] | null;

  @Field(() => CustomQueryInput, { nullable: true, description: 'Instead of a model: a custom query. model is then ignored (EVENTS for APPEND, PERSONS for MERGE); fields, event selections and filters do not apply.' })
  @IsOptional()
  @ValidateNested()
  customQuery?: CustomQueryInput | null;

  @Field(() => SchemaModeEnum, { defaultValue: SchemaModeEnum.EVOLVE, description: 'What runs do when the destination table\'s columns differ from the export\'s (a field added, a new Outport column, a custom query\'s new output column). Default: EVOLVE.' })
  schemaMode!: SchemaModeEnum;

  @Field(() => ExportLayoutEnum, { defaultValue: ExportLayoutEnum.OUTPORT, description: 'OUTPORT (default) or POSTHOG: PostHog\'s events columns for the destination\'s kind (fields and customQuery must then be left out).' })
  layout!: ExportLayoutEnum;
}

/** Patch: omitted fields keep their value; includeEvents/excludeEvents/filters, when given, replace the lists. */
@InputType()
export class UpdateBatchExportInput {
  @Field({ nullable: true })
  @IsOptional()
  @Length(1, NAME_MAX)
  name?: string;

  @Field(() => ID, { nullable: true })
  destinationId?: string;

  @Field(() => ModelEnum, { nullable: true })
  model?: ModelEnum;

  @Field(() => IntervalEnum, { nullable: true })
  interval?: IntervalEnum;

  @Field({ nullable: true })
  timezone?: string;

  @Field(() => Int, { nullable: true })
  offsetHour?: number | null;

  @Field(() => Int, { nullable: true })
  offsetDay?: number | null;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  includeEvents?: string[];

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  excludeEvents?: string[];

  @Field(() => [PropertyFilterInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(FILTERS_MAX)
  @ValidateNested({ each: true })
  filters?: PropertyFilterInput[];

  @Field(() => Date, { nullable: true, description: 'Send null to clear.' })
  startAt?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Send null to clear.' })
  endAt?: Date | null;

  @Field(() => Int, { nullable: true, description: 'See CreateBatchExportInput.maxConcurrentRuns. Runs already executing finish; queued runs follow the new limit.' })
  maxConcurrentRuns?: number | null;

  @Field(() => [ExportFieldInput], { nullable: true, description: 'Send null to export every column of the model again; a list replaces the selection. The model\'s key and version columns must stay selected.' })
  @IsOptional()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  fields?: ExportFieldInput[] | null;

  @Field(() => CustomQueryInput, { nullable: true, description: 'Send null to turn a custom query export back into a model export. model is then ignored (EVENTS for APPEND, PERSONS for MERGE); fields, event selections and filters do not apply.' })
  @IsOptional()
  @ValidateNested()
  customQuery?: CustomQueryInput | null;

  @Field(() => SchemaModeEnum, { nullable: true, description: 'See CreateBatchExportInput.schemaMode. Applies from the next run.' })
  schemaMode?: SchemaModeEnum | null;

  @Field(() => ExportLayoutEnum, { nullable: true, description: 'See CreateBatchExportInput.layout. Applies from the next run.' })
  layout?: ExportLayoutEnum | null;
}
