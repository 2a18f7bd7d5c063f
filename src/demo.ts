/**
 * First boot on embedded defaults: a day of demo events in the embedded ClickHouse, a local-files destination,
 * an hourly export, and a backfill of the last 24 hours, so a new user sees real runs complete within a minute.
 * Goes through the same services the API uses, so the demo is set up exactly as a user would set it up.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { DependencyContainer } from 'tsyringe';
import { BackfillService } from './api/backfill.service';
import { apiScope } from './api/server';
import { BatchExportService } from './api/batch-export.service';
import { DestinationService } from './api/destination.service';
import { IntervalEnum, ModelEnum } from './api/enums';
import { teamLocalFilesDirectory, type Config } from './config';
import type { Logger } from './logger';
import { createSourceTables, generatePersons, insertBulkEvents, insertPersons, type SourceConfig } from './source';

const HOUR = 3_600_000;
const DEMO_EVENTS = 24_000;

export async function setUpDemo(o: {
  c: DependencyContainer;
  chClient: ClickHouseClient;
  sourceConfig: SourceConfig;
  config: Config;
  teamId: number;
  log: Logger;
}): Promise<void> {
  const { database, tables } = o.sourceConfig;
  const services = apiScope(o.c);
  const names = { database, events: tables.events, person: tables.person, personDistinctId: tables.personDistinctId };
  const end = new Date(Math.floor(Date.now() / HOUR) * HOUR);
  const start = new Date(end.getTime() - 24 * HOUR);
  await createSourceTables(o.chClient, names);
  // Team ids in the generator start at 1, which is the first team of a fresh store.
  await insertBulkEvents(o.chClient, names, { seed: 7, count: DEMO_EVENTS, start, stepMicros: (24 * HOUR * 1000) / DEMO_EVENTS });
  await insertPersons(o.chClient, names, generatePersons({ seed: 7, teamId: o.teamId, persons: 500, start }));

  // '.' is the team's own folder under OUTPORT_LOCAL_FILES_ROOT (default .outport/exports/team-<id>).
  const dest = await services.resolve(DestinationService).create(o.teamId, 'Local files (demo)', 'local-files', { path: '.' });
  const exp = await services.resolve(BatchExportService).create(o.teamId, {
    name: 'Demo: events, hourly, to local files',
    destinationId: dest.id,
    model: ModelEnum.EVENTS,
    interval: IntervalEnum.HOUR,
    timezone: 'UTC',
    paused: false,
  } as never);
  await services.resolve(BackfillService).create(o.teamId, exp.id, start, end);
  o.log.info({ events: DEMO_EVENTS, exportId: exp.id, directory: teamLocalFilesDirectory(o.config, o.teamId) }, 'demo data and export created; a 24-hour backfill is running');
}
