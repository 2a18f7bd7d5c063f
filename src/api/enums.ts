/**
 * GraphQL enums. GraphQL names are SCREAMING_CASE by convention; the values behind them are what the store holds,
 * so resolvers pass stored strings straight through.
 */
import { registerEnumType } from 'type-graphql';
import type { ColumnType, DestinationErrorKind } from '../sdk';
import type { PropertyFilterOperator } from '../source/filters';

/** Compiles only when A and B are the same set of strings: an enum mirroring a type elsewhere cannot drift from it. */
type SameSet<A extends string, B extends string> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;

export enum ModelEnum {
  EVENTS = 'events',
  PERSONS = 'persons',
  SESSIONS = 'sessions',
}
registerEnumType(ModelEnum, {
  name: 'Model',
  description: 'The data model an export reads.',
  valuesConfig: {
    EVENTS: { description: 'Captured events, one row each (immutable).' },
    PERSONS: { description: 'Persons with their properties and distinct ids (mutable: merged by key and version).' },
    SESSIONS: { description: 'Sessions aggregated from events.' },
  },
});

/** Values are the interval kinds of src/scheduler/intervals.ts. */
export enum IntervalEnum {
  EVERY_5_MINUTES = 'every_5_minutes',
  EVERY_15_MINUTES = 'every_15_minutes',
  HOUR = 'hour',
  DAY = 'day',
  WEEK = 'week',
}
registerEnumType(IntervalEnum, {
  name: 'Interval',
  description: 'How often an export runs; each run covers one interval.',
  valuesConfig: {
    EVERY_5_MINUTES: { description: 'Five minutes, aligned to the clock.' },
    EVERY_15_MINUTES: { description: 'Fifteen minutes, aligned to the clock.' },
    HOUR: { description: 'One hour of the time zone.' },
    DAY: { description: 'One day of the time zone, from offsetHour.' },
    WEEK: { description: 'One week of the time zone, from offsetDay at offsetHour.' },
  },
});

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
  description: 'Where a run is in its life.',
  valuesConfig: {
    STARTING: { description: 'Queued, waiting for a worker.' },
    RUNNING: { description: 'A worker is executing it.' },
    COMPLETED: { description: 'The interval was exported.' },
    FAILED: { description: 'It failed and is not retried (a permanent error, or no attempts left).' },
    CANCELLED: { description: 'A user (or deleting the export) cancelled it.' },
    FAILED_RETRYABLE: { description: 'The latest attempt failed with a transient error; another attempt is scheduled.' },
    TIMED_OUT: { description: 'The run stopped heart-beating and exhausted its attempts.' },
  },
});

export enum RunTriggerEnum {
  SCHEDULE = 'schedule',
  BACKFILL = 'backfill',
  RETRY = 'retry',
}
registerEnumType(RunTriggerEnum, {
  name: 'RunTrigger',
  description: 'What created the run (or last re-queued it).',
  valuesConfig: {
    SCHEDULE: { description: 'The schedule, once the interval closed.' },
    BACKFILL: { description: 'A backfill.' },
    RETRY: { description: 'A user retried it.' },
  },
});

export enum BackfillStatusEnum {
  STARTING = 'Starting',
  RUNNING = 'Running',
  COMPLETED = 'Completed',
  FAILED = 'Failed',
  CANCELLED = 'Cancelled',
}
registerEnumType(BackfillStatusEnum, {
  name: 'BackfillStatus',
  description: 'Where a backfill is in its life.',
  valuesConfig: {
    STARTING: { description: 'Created; no run has started yet.' },
    RUNNING: { description: 'Some runs are queued or running.' },
    COMPLETED: { description: 'Every run completed.' },
    FAILED: { description: 'Every run finished and at least one failed.' },
    CANCELLED: { description: 'A user (or deleting the export) cancelled it.' },
  },
});

export enum LogLevelEnum {
  DEBUG = 'DEBUG',
  INFO = 'INFO',
  WARN = 'WARN',
  ERROR = 'ERROR',
}
registerEnumType(LogLevelEnum, {
  name: 'LogLevel',
  description: 'How important a log line is.',
  valuesConfig: {
    DEBUG: { description: 'Detail for diagnosing.' },
    INFO: { description: 'Progress and outcomes.' },
    WARN: { description: 'Something to look at: values replaced, retries.' },
    ERROR: { description: 'A failure.' },
  },
});

export enum TokenScopeEnum {
  READ = 'read',
  WRITE = 'write',
}
registerEnumType(TokenScopeEnum, {
  name: 'TokenScope',
  description: 'What an API token may do.',
  valuesConfig: {
    READ: { description: 'Queries and subscriptions.' },
    WRITE: { description: 'Mutations too (implies READ).' },
  },
});

export enum RunOrderEnum {
  INTERVAL_START = 'interval_start',
  CREATED_AT = 'created_at',
}
registerEnumType(RunOrderEnum, {
  name: 'RunOrder',
  description: 'Sort key of `runs`, newest first.',
  valuesConfig: {
    INTERVAL_START: { description: "By the runs' interval start." },
    CREATED_AT: { description: 'By when the runs were created.' },
  },
});

export enum PropertyFilterTypeEnum {
  EVENT = 'event',
  PERSON = 'person',
}
registerEnumType(PropertyFilterTypeEnum, {
  name: 'PropertyFilterType',
  description: "Which JSON column a property filter reads: the event's properties or the person's.",
  valuesConfig: {
    EVENT: { description: "The event's properties." },
    PERSON: { description: "The person's properties (as of the event)." },
  },
});

/** Values are what the worker stores as a run's (and attempt's) error kind, and the SDK's DestinationErrorKind. */
export enum ErrorKindEnum {
  RETRYABLE = 'retryable',
  PERMANENT = 'permanent',
  CONFIG = 'config',
  TIMEOUT = 'timeout',
  RECONCILIATION = 'reconciliation',
}
// Destination errors' kinds, plus the two the worker gives runs it stops itself.
const destinationKindsCovered: SameSet<Exclude<`${ErrorKindEnum}`, 'timeout' | 'reconciliation'>, DestinationErrorKind> = true;
void destinationKindsCovered;
registerEnumType(ErrorKindEnum, {
  name: 'ErrorKind',
  description: 'How a failure was classified, which decides whether it is retried.',
  valuesConfig: {
    RETRYABLE: { description: 'Transient (network, throttling, a lock): retried with backoff.' },
    PERMANENT: { description: 'Retrying the same data will fail again (a rejected row, a missing table): not retried.' },
    CONFIG: { description: 'The destination configuration is wrong (credentials, permissions, an unknown bucket): fix the destination, then retry.' },
    TIMEOUT: { description: 'The run exceeded its time limit.' },
    RECONCILIATION: { description: 'The destination confirmed a different number of rows than the source gave; the run was not marked complete.' },
  },
});

/** Values are src/source/filters.ts PROPERTY_FILTER_OPERATORS, stored as is. */
export enum FilterOperatorEnum {
  EXACT = 'exact',
  IS_NOT = 'is_not',
  ICONTAINS = 'icontains',
  NOT_ICONTAINS = 'not_icontains',
  REGEX = 'regex',
  IS_SET = 'is_set',
  IS_NOT_SET = 'is_not_set',
  GT = 'gt',
  LT = 'lt',
}
const operatorsMatchSource: SameSet<`${FilterOperatorEnum}`, PropertyFilterOperator> = true;
void operatorsMatchSource;
registerEnumType(FilterOperatorEnum, {
  name: 'FilterOperator',
  description: 'How a property filter compares the property with its value.',
  valuesConfig: {
    EXACT: { description: 'Equals the value (a string, number or boolean), or one of a list of them.' },
    IS_NOT: { description: 'Differs from the value, or from every value of a list (a missing property matches).' },
    ICONTAINS: { description: 'Contains the string, ignoring case.' },
    NOT_ICONTAINS: { description: 'Does not contain the string, ignoring case.' },
    REGEX: { description: 'Matches the RE2 regular expression.' },
    IS_SET: { description: 'The property is present (no value).' },
    IS_NOT_SET: { description: 'The property is absent (no value).' },
    GT: { description: 'A number greater than the value.' },
    LT: { description: 'A number less than the value.' },
  },
});

/**
 * File formats. Plugins declare capabilities.formats as 'JSONLines' and 'Parquet' (the file_format config
 * option's spelling); 'jsonl'/'parquet', the wire-format spelling, are read as the same formats.
 */
export enum FileFormatEnum {
  JSON_LINES = 'JSONLines',
  PARQUET = 'Parquet',
}
registerEnumType(FileFormatEnum, {
  name: 'FileFormat',
  description: 'A file format a destination can write (its config option file_format spells them JSONLines and Parquet).',
  valuesConfig: {
    JSON_LINES: { description: 'One JSON object per line.' },
    PARQUET: { description: 'Apache Parquet, typed columns.' },
  },
});

const FILE_FORMAT_SPELLINGS: Record<string, FileFormatEnum> = {
  jsonlines: FileFormatEnum.JSON_LINES,
  jsonl: FileFormatEnum.JSON_LINES,
  json_lines: FileFormatEnum.JSON_LINES,
  ndjson: FileFormatEnum.JSON_LINES,
  parquet: FileFormatEnum.PARQUET,
};

/** A plugin's declared format in the API's one spelling; undefined for a format the API does not know. */
export function fileFormatOf(declared: string): FileFormatEnum | undefined {
  return FILE_FORMAT_SPELLINGS[declared.toLowerCase()];
}

/** Values are what src/worker/run-attempts.ts stores: a run status, `Running`, or `Lost`. */
export enum RunAttemptStatusEnum {
  RUNNING = 'Running',
  COMPLETED = 'Completed',
  FAILED = 'Failed',
  FAILED_RETRYABLE = 'FailedRetryable',
  CANCELLED = 'Cancelled',
  TIMED_OUT = 'TimedOut',
  LOST = 'Lost',
}
registerEnumType(RunAttemptStatusEnum, {
  name: 'RunAttemptStatus',
  description: 'How one attempt of a run ended (or that it is still running).',
  valuesConfig: {
    RUNNING: { description: 'The attempt is executing.' },
    COMPLETED: { description: 'The attempt exported the interval.' },
    FAILED: { description: 'The attempt failed and the run is not retried.' },
    FAILED_RETRYABLE: { description: 'The attempt failed with a transient error; another attempt follows.' },
    CANCELLED: { description: 'A user cancelled the run during the attempt.' },
    TIMED_OUT: { description: 'The attempt exceeded the time limit or stopped heart-beating, with no attempts left.' },
    LOST: { description: 'Its worker stopped heart-beating and another attempt took the run over.' },
  },
});

/** Values are the SDK's ColumnType (src/sdk/models.ts). */
export enum ColumnTypeEnum {
  STRING = 'string',
  INT = 'int',
  FLOAT = 'float',
  BOOL = 'bool',
  TIMESTAMP = 'timestamp',
  JSON = 'json',
}
const columnTypesMatchSdk: SameSet<`${ColumnTypeEnum}`, ColumnType> = true;
void columnTypesMatchSdk;
registerEnumType(ColumnTypeEnum, {
  name: 'ColumnType',
  description: 'The type of a column as destinations receive it; each destination maps it to its own type.',
  valuesConfig: {
    STRING: { description: 'Text.' },
    INT: { description: 'A 64-bit integer.' },
    FLOAT: { description: 'A 64-bit floating-point number.' },
    BOOL: { description: 'true or false.' },
    TIMESTAMP: { description: 'An instant with microseconds, UTC.' },
    JSON: { description: 'A JSON document.' },
  },
});

export enum FieldTypeEnum {
  STRING = 'string',
  NUMBER = 'number',
  BOOLEAN = 'boolean',
  TIMESTAMP = 'timestamp',
  JSON = 'json',
}
registerEnumType(FieldTypeEnum, {
  name: 'FieldType',
  description: 'Type of a value extracted from a JSON column.',
  valuesConfig: {
    STRING: { description: 'The value as text (JSON text for objects and arrays).' },
    NUMBER: { description: 'A number (null when the value is not one).' },
    BOOLEAN: { description: 'true or false (null when the value is neither).' },
    TIMESTAMP: { description: 'An ISO 8601 date-time (null when the value is not one).' },
    JSON: { description: 'The value as JSON.' },
  },
});

export enum IncrementalModeEnum {
  APPEND = 'append',
  MERGE = 'merge',
}
registerEnumType(IncrementalModeEnum, {
  name: 'IncrementalMode',
  description: 'How a custom query\'s rows land at the destination.',
  valuesConfig: {
    APPEND: { description: 'Immutable rows, each primary key landed once (like events).' },
    MERGE: { description: 'A row replaces the stored one with its key when its version is higher (like persons).' },
  },
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
  valuesConfig: {
    CONNECT: { description: 'Reach the destination over the network.' },
    AUTHENTICATE: { description: 'Sign in with the credentials.' },
    PERMISSIONS: { description: 'Check the credentials have the access a run needs.' },
    WRITE_PROBE: { description: 'Write a probe and remove it, leaving nothing behind.' },
  },
});

export enum NotificationChannelKindEnum {
  WEBHOOK = 'webhook',
  SLACK = 'slack',
  EMAIL = 'email',
}
registerEnumType(NotificationChannelKindEnum, {
  name: 'NotificationChannelKind',
  description: 'Where a channel sends its messages.',
  valuesConfig: {
    WEBHOOK: { description: 'A signed JSON POST (X-Outport-Signature) to a URL.' },
    SLACK: { description: 'A Slack incoming webhook (text + blocks).' },
    EMAIL: { description: 'Mail over SMTP.' },
  },
});

/** Values are the event kinds of src/notifications/events.ts. */
export enum NotificationEventEnum {
  RUN_FAILED = 'run_failed',
  EXPORT_AUTO_PAUSED = 'export_auto_paused',
  EXPORT_RECOVERED = 'export_recovered',
  RUN_SLOW = 'run_slow',
  EXPORT_STALE = 'export_stale',
  TEST = 'test',
}
registerEnumType(NotificationEventEnum, {
  name: 'NotificationEvent',
  description: 'What a notification is about.',
  valuesConfig: {
    RUN_FAILED: { description: 'A run ended Failed or TimedOut.' },
    EXPORT_AUTO_PAUSED: { description: 'Failures paused the export.' },
    EXPORT_RECOVERED: { description: 'The first success after failures.' },
    RUN_SLOW: { description: 'A run ran longer than slowRunSeconds.' },
    EXPORT_STALE: { description: 'The last completed interval ended more than staleIntervals intervals ago.' },
    TEST: { description: 'A test message sent by sendTestNotification.' },
  },
});

export enum NotificationStatusEnum {
  PENDING = 'Pending',
  DELIVERED = 'Delivered',
  FAILED = 'Failed',
}
registerEnumType(NotificationStatusEnum, {
  name: 'NotificationStatus',
  description: 'Whether a message reached its channel.',
  valuesConfig: {
    PENDING: { description: 'Queued or retrying.' },
    DELIVERED: { description: 'The channel accepted it.' },
    FAILED: { description: 'Every attempt failed; lastError says why.' },
  },
});
