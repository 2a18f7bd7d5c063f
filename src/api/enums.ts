/**
 * GraphQL enums. GraphQL names are SCREAMING_CASE by convention; the values behind them are what the store holds,
 * so resolvers pass stored strings straight through.
 */
import { registerEnumType } from 'type-graphql';

export enum ModelEnum {
  EVENTS = 'events',
  PERSONS = 'persons',
  SESSIONS = 'sessions',
}
registerEnumType(ModelEnum, { name: 'Model', description: 'The data model an export reads.' });

/** Values are the interval kinds of src/scheduler/intervals.ts. */
export enum IntervalEnum {
  EVERY_5_MINUTES = 'every_5_minutes',
  EVERY_15_MINUTES = 'every_15_minutes',
  HOUR = 'hour',
  DAY = 'day',
  WEEK = 'week',
}
registerEnumType(IntervalEnum, { name: 'Interval', description: 'How often an export runs; each run covers one interval.' });

export enum RunStatusEnum {
  STARTING = 'Starting',
  RUNNING = 'Running',
  COMPLETED = 'Completed',
  FAILED = 'Failed',
  FAILED_RETRYABLE = 'FailedRetryable',
  CANCELLED = 'Cancelled',
  TIMED_OUT = 'TimedOut',
}
registerEnumType(RunStatusEnum, {
  name: 'RunStatus',
  valuesConfig: {
    STARTING: { description: 'Queued, waiting for a worker.' },
    FAILED_RETRYABLE: { description: 'The latest attempt failed with a transient error; another attempt is scheduled.' },
    TIMED_OUT: { description: 'The run stopped heart-beating and exhausted its attempts.' },
  },
});

export enum RunTriggerEnum {
  SCHEDULE = 'schedule',
  BACKFILL = 'backfill',
  RETRY = 'retry',
}
registerEnumType(RunTriggerEnum, { name: 'RunTrigger', description: 'What created the run (or last re-queued it).' });

export enum BackfillStatusEnum {
  STARTING = 'Starting',
  RUNNING = 'Running',
  COMPLETED = 'Completed',
  FAILED = 'Failed',
  CANCELLED = 'Cancelled',
}
registerEnumType(BackfillStatusEnum, { name: 'BackfillStatus' });

export enum LogLevelEnum {
  DEBUG = 'DEBUG',
  INFO = 'INFO',
  WARN = 'WARN',
  ERROR = 'ERROR',
}
registerEnumType(LogLevelEnum, { name: 'LogLevel' });

export enum TokenScopeEnum {
  READ = 'read',
  WRITE = 'write',
}
registerEnumType(TokenScopeEnum, { name: 'TokenScope', description: 'read: queries and subscriptions; write: mutations too.' });

export enum RunOrderEnum {
  INTERVAL_START = 'interval_start',
  CREATED_AT = 'created_at',
}
registerEnumType(RunOrderEnum, { name: 'RunOrder', description: 'Sort key of `runs`, newest first.' });

export enum PropertyFilterTypeEnum {
  EVENT = 'event',
  PERSON = 'person',
}
registerEnumType(PropertyFilterTypeEnum, { name: 'PropertyFilterType', description: "Which JSON column a property filter reads: the event's properties or the person's." });
