import { Field, ID, ObjectType } from 'type-graphql';
import { LogLevelEnum } from './enums';
import { ConnectionType } from './pagination';

@ObjectType()
export class LogEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  batchExportId!: string;

  @Field(() => ID, { nullable: true })
  runId!: string | null;

  @Field(() => LogLevelEnum)
  level!: LogLevelEnum;

  @Field()
  message!: string;

  @Field(() => Date)
  timestamp!: Date;
}

@ObjectType()
export class LogEntryConnection extends ConnectionType('LogEntry', LogEntry) {}
