import { Field, ID, Int, ObjectType } from 'type-graphql';
import { IntervalEnum, ModelEnum, PropertyFilterTypeEnum } from './enums';
import { ConnectionType } from './pagination';
import { JSON } from './scalars';
import { ExportLayoutEnum, FieldTypeEnum, IncrementalModeEnum, SchemaModeEnum } from './batch-export.input';

@ObjectType({ description: 'One chosen column: a model column (renamed with alias) or a JSON path with an alias and a type.' })
export class ExportField {
  @Field()
  source!: string;

  @Field(() => String, { nullable: true })
  alias!: string | null;

  @Field(() => FieldTypeEnum, { nullable: true })
  type!: FieldTypeEnum | null;
}

@ObjectType({ description: 'The ClickHouse SELECT defining a custom query export.' })
export class CustomQueryDefinition {
  @Field()
  query!: string;

  @Field(() => [String])
  primaryKey!: string[];

  @Field(() => [String])
  versionKey!: string[];

  @Field(() => IncrementalModeEnum)
  mode!: IncrementalModeEnum;
}

@ObjectType({ description: 'A column as destinations receive it: type is one of string, int, float, bool, timestamp, json.' })
export class ExportColumn {
  @Field()
  name!: string;

  @Field()
  type!: string;

  @Field()
  nullable!: boolean;
}

@ObjectType({ description: 'The columns an export writes, and, when the source could read them, a few real rows.' })
export class ExportSchemaPreview {
  @Field(() => [ExportColumn])
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
  @Field()
  key!: string;

  @Field()
  operator!: string;

  @Field(() => JSON, { nullable: true })
  value!: unknown;

  @Field(() => PropertyFilterTypeEnum, { nullable: true })
  type!: PropertyFilterTypeEnum | null;
}

/** Resolved from `BatchExportEntity` rows; `destination` and `latestRuns` are field resolvers. */
@ObjectType()
export class BatchExport {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => ID)
  destinationId!: string;

  @Field(() => ModelEnum)
  model!: ModelEnum;

  @Field(() => IntervalEnum)
  interval!: IntervalEnum;

  @Field({ description: 'IANA time zone aligning HOUR, DAY and WEEK intervals.' })
  timezone!: string;

  @Field(() => Int, { description: 'Hour of the local day (0-23) at which DAY and WEEK intervals start.' })
  offsetHour!: number;

  @Field(() => Int, { description: 'Weekday (0 = Sunday) at which WEEK intervals start.' })
  offsetDay!: number;

  @Field(() => [String], { description: 'Only these events (empty: all events).' })
  includeEvents!: string[];

  @Field(() => [String])
  excludeEvents!: string[];

  @Field(() => [PropertyFilter])
  filters!: PropertyFilter[];

  @Field(() => Date, { nullable: true })
  startAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'No interval starting at or after this is exported; also caps backfills.' })
  endAt!: Date | null;

  @Field()
  paused!: boolean;

  @Field(() => Date, { nullable: true })
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

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

@ObjectType()
export class BatchExportConnection extends ConnectionType('BatchExport', BatchExport) {}
