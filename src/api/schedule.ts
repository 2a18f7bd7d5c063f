/** Bridges stored exports and the pure interval math of src/scheduler/intervals.ts. */
import type { BatchExportEntity } from '../store/entities';
import { validateSchedule, type Schedule } from '../scheduler/intervals';
import { badInputs } from './errors';

export function scheduleOf(e: Pick<BatchExportEntity, 'interval' | 'timezone' | 'offsetHour' | 'offsetDay' | 'startAt' | 'endAt'>): Schedule {
  return {
    interval: e.interval,
    timezone: e.timezone,
    offsetHour: e.interval === 'day' || e.interval === 'week' ? e.offsetHour : null,
    offsetDay: e.interval === 'week' ? e.offsetDay : null,
    startAt: e.startAt,
    endAt: e.endAt,
  };
}

/** BAD_USER_INPUT for each bad field (under `prefix`, e.g. `input.timezone`). */
export function assertValidSchedule(schedule: Schedule, prefix = 'input'): void {
  const issues = validateSchedule(schedule);
  if (issues.length) throw badInputs(issues.map((i) => ({ field: `${prefix}.${i.field}`, message: i.message })));
}
