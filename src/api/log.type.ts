import { Field, ID, ObjectType } from 'type-graphql';
import { LogLevelEnum } from './enums';
import { ConnectionType } from './pagination';

@ObjectType({ description: 'One line of an export\'s or run\'s log.' })
export class LogEntry {
  @Field(() => ID, { description: 'The line id (increasing in logging order).' })
  id!: string;

  @Field(() => ID, { description: 'The export the line is about.' })
  batchExportId!: string;

  @Field(() => ID, { nullable: true, description: 'The run the line is about; null for lines about the export itself.' })
  runId!: string | null;

  @Field(() => LogLevelEnum, { description: 'How important the line is.' })
  level!: LogLevelEnum;

  @Field({ description: 'The line itself.' })
  message!: string;

  @Field(() => Date, { description: 'When it was logged.' })
  timestamp!: Date;
}

/** No totalCount: counting a filtered search of a large log table costs a scan. */
@ObjectType({ description: 'A page of log lines.' })
export class LogEntryConnection extends ConnectionType('LogEntry', LogEntry, { totalCount: false, itemsDescription: 'log lines' }) {}
