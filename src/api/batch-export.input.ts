import { ArrayMaxSize, IsOptional, Length, MaxLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { ExportLayoutEnum, FieldTypeEnum, FilterOperatorEnum, IncrementalModeEnum, IntervalEnum, ModelEnum, PropertyFilterTypeEnum, SchemaModeEnum } from './enums';
import { JSON } from './scalars';

export const NAME_MAX = 200;
export const EVENT_LIST_MAX = 1000;
export const FILTERS_MAX = 100;
/** Highest `maxConcurrentRuns` an export may ask for (one backfill cannot use more workers than this). */
export const MAX_CONCURRENT_RUNS_LIMIT = 32;

@InputType({ description: 'A condition on an event or person property; all filters of an export must hold.' })
export class PropertyFilterInput {
  @Field({ description: 'Top-level property name, e.g. `$browser`.' })
  @Length(1, 1000)
  key!: string;

  @Field(() => FilterOperatorEnum, { description: 'How the property is compared with value.' })
  operator!: FilterOperatorEnum;

  @Field(() => JSON, {
    nullable: true,
    description: 'EXACT/IS_NOT: a string, number or boolean, or a list of them; ICONTAINS/NOT_ICONTAINS/REGEX: a string; GT/LT: a number; IS_SET/IS_NOT_SET: omitted.',
  })
  value?: unknown;

  @Field(() => PropertyFilterTypeEnum, { nullable: true, description: "Where the property lives. Default: EVENT (the event's properties)." })
  type?: PropertyFilterTypeEnum | null;
}

// Defined with the API's other enums; re-exported for the modules that import them from here.
export { ExportLayoutEnum, FieldTypeEnum, IncrementalModeEnum, SchemaModeEnum } from './enums';

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

  @Field(() => IncrementalModeEnum, { defaultValue: IncrementalModeEnum.APPEND, description: 'How rows land. Default: APPEND.' })
  mode!: IncrementalModeEnum;
}

/** The fields create and update share, with the same rules; on update, omitted ones keep their values. */
@InputType('BatchExportInputBase')
abstract class BatchExportInputBase {
  @Field(() => Int, { nullable: true, description: 'DAY and WEEK only: hour of the local day (0-23) at which intervals start. Default on create: 0.' })
  offsetHour?: number | null;

  @Field(() => Int, { nullable: true, description: 'WEEK only: weekday at which intervals start, 0 = Sunday. Default on create: 0.' })
  offsetDay?: number | null;

  @Field(() => [String], { nullable: true, description: 'Only these events (empty or omitted on create: all events). Events model only; a list replaces the stored one.' })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  includeEvents?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Never these events. Events model only; a list replaces the stored one.' })
  @IsOptional()
  @ArrayMaxSize(EVENT_LIST_MAX)
  @MaxLength(400, { each: true })
  excludeEvents?: string[] | null;

  @Field(() => [PropertyFilterInput], { nullable: true, description: `Property conditions that must all hold (at most ${FILTERS_MAX}). Events model only; a list replaces the stored one.` })
  @IsOptional()
  @ArrayMaxSize(FILTERS_MAX)
  @ValidateNested({ each: true })
  filters?: PropertyFilterInput[] | null;

  @Field(() => Date, { nullable: true, description: 'No interval ending before this is exported by the schedule. On update, null clears it.' })
  startAt?: Date | null;

  @Field(() => Date, { nullable: true, description: 'No interval starting at or after this is exported; also caps backfills. On update, null clears it.' })
  endAt?: Date | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Most runs of this export executing at once (1-32): runs of an events export, of a backfill or of the schedule catching up, execute up to this many at a time on any worker processes and machines. Persons and sessions exports always run one at a time in interval order. Default: 4. On update, runs already executing finish; queued runs follow the new limit.',
  })
  maxConcurrentRuns?: number | null;

  @Field(() => [ExportFieldInput], {
    nullable: true,
    description: "The columns to export (omitted on create, or null on update: every column of the model); a list replaces the selection. The model's key and version columns must stay selected.",
  })
  @IsOptional()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  fields?: ExportFieldInput[] | null;

  @Field(() => CustomQueryInput, {
    nullable: true,
    description: 'Instead of a model: a custom query (on update, null turns it back into a model export). model is then ignored (EVENTS for APPEND, PERSONS for MERGE); fields, event selections and filters do not apply.',
  })
  @IsOptional()
  @ValidateNested()
  customQuery?: CustomQueryInput | null;
}

@InputType({ description: 'A new batch export: what to read, where to write it, and on which schedule.' })
export class CreateBatchExportInput extends BatchExportInputBase {
  @Field({ description: `A name to tell exports apart (1-${NAME_MAX} characters).` })
  @Length(1, NAME_MAX)
  name!: string;

  @Field(() => ID, { description: 'The destination runs write to.' })
  destinationId!: string;

  @Field(() => ModelEnum, { defaultValue: ModelEnum.EVENTS, description: 'The data model to read. Default: EVENTS.' })
  model!: ModelEnum;

  @Field(() => IntervalEnum, { description: 'How often the export runs; each run covers one interval.' })
  interval!: IntervalEnum;

  @Field({ defaultValue: 'UTC', description: 'IANA time zone aligning HOUR, DAY and WEEK intervals. Default: UTC.' })
  timezone!: string;

  @Field({ defaultValue: false, description: 'Create the export paused: nothing runs until it is unpaused. Default: false.' })
  paused!: boolean;

  @Field(() => SchemaModeEnum, { defaultValue: SchemaModeEnum.EVOLVE, description: 'What runs do when the destination table\'s columns differ from the export\'s (a field added, a new Outport column, a custom query\'s new output column). Default: EVOLVE.' })
  schemaMode!: SchemaModeEnum;

  @Field(() => ExportLayoutEnum, { defaultValue: ExportLayoutEnum.OUTPORT, description: 'OUTPORT (default) or POSTHOG: PostHog\'s events columns for the destination\'s kind (fields and customQuery must then be left out).' })
  layout!: ExportLayoutEnum;
}

/** Patch: omitted fields keep their value; includeEvents/excludeEvents/filters, when given, replace the lists. */
@InputType({ description: 'Changes to a batch export: omitted fields keep their values; lists, when given, replace. Applies from the next run.' })
export class UpdateBatchExportInput extends BatchExportInputBase {
  @Field(() => ID, { description: 'The export to change.' })
  id!: string;

  @Field({ nullable: true, description: `A new name (1-${NAME_MAX} characters).` })
  @IsOptional()
  @Length(1, NAME_MAX)
  name?: string;

  @Field(() => ID, { nullable: true, description: 'Write to another destination of the team.' })
  destinationId?: string;

  @Field(() => ModelEnum, { nullable: true, description: 'Read another data model.' })
  model?: ModelEnum;

  @Field(() => IntervalEnum, { nullable: true, description: 'A new interval; the schedule continues from the interval in progress.' })
  interval?: IntervalEnum;

  @Field({ nullable: true, description: 'A new IANA time zone.' })
  timezone?: string;

  @Field(() => SchemaModeEnum, { nullable: true, description: 'See CreateBatchExportInput.schemaMode.' })
  schemaMode?: SchemaModeEnum | null;

  @Field(() => ExportLayoutEnum, { nullable: true, description: 'See CreateBatchExportInput.layout.' })
  layout?: ExportLayoutEnum | null;
}
