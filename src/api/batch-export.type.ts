import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ColumnTypeEnum, FilterOperatorEnum, IntervalEnum, ModelEnum, PropertyFilterTypeEnum } from './enums';
import { ConnectionType } from './pagination';
import { JSON } from './scalars';
import { ExportLayoutEnum, FieldTypeEnum, IncrementalModeEnum, SchemaModeEnum } from './batch-export.input';

@ObjectType({ description: 'One chosen column: a model column (renamed with alias) or a JSON path with an alias and a type.' })
export class ExportField {
  @Field({ description: 'A model column, or a JSON column and keys separated by dots.' })
  source!: string;

  @Field(() => String, { nullable: true, description: 'The column name at the destination; null: the source name.' })
  alias!: string | null;

  @Field(() => FieldTypeEnum, { nullable: true, description: 'JSON paths only: the type of the extracted value.' })
  type!: FieldTypeEnum | null;
}

@ObjectType({ description: 'The ClickHouse SELECT defining a custom query export.' })
export class CustomQueryDefinition {
  @Field({ description: 'The ClickHouse SELECT, with {data_interval_start} and {data_interval_end}.' })
  query!: string;

  @Field(() => [String], { description: 'Output columns identifying a row at the destination.' })
  primaryKey!: string[];

  @Field(() => [String], { description: 'MERGE: output columns compared, in order, to decide whether a row replaces the stored one.' })
  versionKey!: string[];

  @Field(() => IncrementalModeEnum, { description: 'How rows land.' })
  mode!: IncrementalModeEnum;
}

@ObjectType({ description: 'A column as destinations receive it.' })
export class ExportColumn {
  @Field({ description: 'The column name.' })
  name!: string;

  @Field(() => ColumnTypeEnum, { description: 'The column type.' })
  type!: ColumnTypeEnum;

  @Field({ description: 'Whether the column can hold null.' })
  nullable!: boolean;
}

@ObjectType({ description: 'The columns an export writes, and, when the source could read them, a few real rows.' })
export class ExportSchemaPreview {
  @Field(() => [ExportColumn], { description: 'The columns, in the order destinations receive them.' })
  columns!: ExportColumn[];

  @Field(() => [String], { description: 'Columns identifying a row at the destination.' })
  key!: string[];

  @Field(() => [String], { description: 'Columns compared, in order, to decide whether a row replaces the stored one (empty: rows are immutable).' })
  versionColumns!: string[];

  @Field(() => [JSON], { description: 'Up to `rows` rows of the last day, as destinations receive them (objects keyed by column name).' })
  rows!: unknown[];
}

@ObjectType({ description: 'A condition on an event or person property; all filters of an export must hold.' })
export class PropertyFilter {
  @Field({ description: 'Top-level property name.' })
  key!: string;

  @Field(() => FilterOperatorEnum, { description: 'How the property is compared with value.' })
  operator!: FilterOperatorEnum;

  @Field(() => JSON, { nullable: true, description: 'The value compared with; null for IS_SET and IS_NOT_SET.' })
  value!: unknown;

  @Field(() => PropertyFilterTypeEnum, { nullable: true, description: 'Where the property lives; null: EVENT.' })
  type!: PropertyFilterTypeEnum | null;
}

/** Resolved from `BatchExportEntity` rows; `destination` and `latestRuns` are field resolvers. */
@ObjectType({ description: 'A scheduled export of one data model (or custom query) of the team to one destination, one run per interval.' })
export class BatchExport {
  @Field(() => ID, { description: 'The export id.' })
  id!: string;

  @Field({ description: 'The name given on create or update.' })
  name!: string;

  @Field(() => ID, { description: 'The destination runs write to.' })
  destinationId!: string;

  @Field(() => ModelEnum, { description: 'The data model the export reads (for a custom query: EVENTS for APPEND, PERSONS for MERGE).' })
  model!: ModelEnum;

  @Field(() => IntervalEnum, { description: 'How often the export runs; each run covers one interval.' })
  interval!: IntervalEnum;

  @Field({ description: 'IANA time zone aligning HOUR, DAY and WEEK intervals.' })
  timezone!: string;

  @Field(() => Int, { description: 'Hour of the local day (0-23) at which DAY and WEEK intervals start.' })
  offsetHour!: number;

  @Field(() => Int, { description: 'Weekday (0 = Sunday) at which WEEK intervals start.' })
  offsetDay!: number;

  @Field(() => [String], { description: 'Only these events (empty: all events).' })
  includeEvents!: string[];

  @Field(() => [String], { description: 'Never these events.' })
  excludeEvents!: string[];

  @Field(() => [PropertyFilter], { description: 'Property conditions that must all hold.' })
  filters!: PropertyFilter[];

  @Field(() => Date, { nullable: true, description: 'No interval ending before this is exported by the schedule; null: no lower bound.' })
  startAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'No interval starting at or after this is exported; also caps backfills.' })
  endAt!: Date | null;

  @Field({ description: 'True while no runs are scheduled.' })
  paused!: boolean;

  @Field(() => Date, { nullable: true, description: 'When the export was paused; null while active.' })
  pausedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Set when Outport paused the export itself (auto-pause after failures).' })
  pausedReason!: string | null;

  @Field(() => Int, { description: 'Most runs of this export executing at once (events only; persons and sessions run one at a time, in interval order).' })
  maxConcurrentRuns!: number;

  @Field(() => [ExportField], { nullable: true, description: 'The chosen columns; null: every column of the model.' })
  fields!: ExportField[] | null;

  @Field(() => CustomQueryDefinition, { nullable: true, description: 'Set when the export is defined by a custom query.' })
  customQuery!: CustomQueryDefinition | null;

  @Field(() => SchemaModeEnum, { description: 'What runs do when the destination table\'s columns differ from the export\'s: EVOLVE adds them, FROZEN fails.' })
  schemaMode!: SchemaModeEnum;

  @Field(() => ExportLayoutEnum, { description: 'OUTPORT: the model\'s columns or the fields; POSTHOG: PostHog\'s events columns for the destination\'s kind.' })
  layout!: ExportLayoutEnum;

  @Field(() => Date, { nullable: true, description: 'End of the last interval the scheduler created a run for.' })
  scheduledUntil!: Date | null;

  @Field(() => Date, { description: 'When the export was created.' })
  createdAt!: Date;

  @Field(() => Date, { description: 'When the export was last changed.' })
  updatedAt!: Date;
}

@ObjectType({ description: 'A page of batch exports.' })
export class BatchExportConnection extends ConnectionType('BatchExport', BatchExport, { itemsDescription: 'batch exports' }) {}
