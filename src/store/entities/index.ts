export * from './team.entity';
export * from './api-token.entity';
export * from './destination.entity';
export * from './batch-export.entity';
export * from './run.entity';
export * from './backfill.entity';
export * from './log-entry.entity';
export * from './notification-channel.entity';
import { TeamEntity } from './team.entity';
import { ApiTokenEntity } from './api-token.entity';
import { DestinationEntity } from './destination.entity';
import { BatchExportEntity } from './batch-export.entity';
import { RunEntity } from './run.entity';
import { BackfillEntity } from './backfill.entity';
import { LogEntryEntity } from './log-entry.entity';
import { NotificationChannelEntity } from './notification-channel.entity';

export const ENTITIES = [TeamEntity, ApiTokenEntity, DestinationEntity, BatchExportEntity, RunEntity, BackfillEntity, LogEntryEntity, NotificationChannelEntity];
