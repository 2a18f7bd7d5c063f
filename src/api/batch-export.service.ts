/**
 * Batch exports: create, patch, pause/unpause, soft delete. Every write is one transaction; change
 * notifications for runs and backfills it touched go out after commit.
 */
import { inject, injectable } from 'tsyringe';
import type { DataSource, EntityManager } from 'typeorm';
import { firstInterval, intervalContaining } from '../scheduler/intervals';
import { BatchExportEntity, RunEntity, type BackfillEntity, type StoredPropertyFilter } from '../store/entities';
import { holdWaitingRuns, requeueWaitingRuns } from '../worker/paused-runs';
import { enqueueRun } from '../worker/run-queue';
import { CLOCK, DATA_SOURCE, SOURCE, type Clock } from '../tokens';
import type { ClickHouseSource } from '../source';
import { CustomQueryError, type CustomQuery } from '../source/custom-query';
import { FieldSelectionError, fieldsSchema, type FieldSelection } from '../source/fields';
import { layoutFields, posthogLayoutProblem } from '../source/posthog-layout';
import type { ModelSchema, Row } from '../sdk/models';
import { publishTouched, type Touched } from './publish';
import type { CreateBatchExportInput, CustomQueryInput, ExportFieldInput, UpdateBatchExportInput } from './batch-export.input';
import { MAX_CONCURRENT_RUNS_LIMIT, NAME_MAX } from './batch-export.input';
import { BackfillService } from './backfill.service';
import { DestinationService } from './destination.service';
import { apiError, badInput } from './errors';
import { validateFilters } from './filters';
import { loadDestination, loadExport } from './lookup';
import { isoMicros, keysetPage, toConnection, type Connection, type PageArgs } from './pagination';
import { assertValidSchedule, scheduleOf } from './schedule';
import { cancelActiveRuns } from './run.service';

function cleanName(name: string, field: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw badInput(field, 'must not be empty');
  if (trimmed.length > NAME_MAX) throw badInput(field, `must be at most ${NAME_MAX} characters`);
  return trimmed;
}

function cleanConcurrency(n: number, field: string): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENT_RUNS_LIMIT) throw badInput(field, `must be a whole number from 1 to ${MAX_CONCURRENT_RUNS_LIMIT}`);
  return n;
}

function cleanEvents(events: string[], field: string): string[] {
  events.forEach((e, i) => {
    if (!e.trim()) throw badInput(`${field}.${i}`, 'event names must not be empty');
    if (e.includes('\u0000')) throw badInput(`${field}.${i}`, 'event names must not contain NUL characters');
  });
  return [...new Set(events)];
}

/**
 * Event selections and property filters choose events; the persons and sessions models have no events to choose,
 * and their source would ignore them. Refused rather than stored, so an export never claims a selection it
 * does not apply.
 */
function assertSelectionFitsModel(model: string, selection: { includeEvents: string[]; excludeEvents: string[]; filters: unknown[] }): void {
  if (model === 'events') return;
  for (const field of ['includeEvents', 'excludeEvents', 'filters'] as const) {
    if (selection[field].length > 0) {
      throw badInput(`input.${field}`, `${field} applies to the events model only; a ${model} export takes none (send ${field}: [] to clear it, or export events)`);
    }
  }
}

/** The part of the ClickHouse source that checks custom queries and previews rows. */
export type SchemaSource = Pick<ClickHouseSource, 'exportSchema' | 'stream'>;

function storedFields(fields: ExportFieldInput[] | null | undefined): FieldSelection[] | null {
  if (!fields || fields.length === 0) return null;
  return fields.map((f) => ({ source: f.source, ...(f.alias ? { alias: f.alias } : {}), ...(f.type ? { type: f.type } : {}) }));
}

function storedCustomQuery(cq: CustomQueryInput | null | undefined): CustomQuery | null {
  if (!cq) return null;
  return { query: cq.query, primaryKey: cq.primaryKey, versionKey: cq.versionKey ?? [], mode: cq.mode };
}

/** A custom query export's model: what destinations that know only models treat it like. */
const customModel = (cq: CustomQuery): 'events' | 'persons' => (cq.mode === 'merge' ? 'persons' : 'events');

/**
 * The schema an export writes, checked: field selections by their rules, custom queries by ClickHouse (parser,
 * safety, DESCRIBE). Errors are BAD_USER_INPUT naming the input field (`input.fields.2.alias`,
 * `input.customQuery.primaryKey`).
 */
async function checkedSchema(source: SchemaSource | undefined, teamId: number, model: string, fields: FieldSelection[] | null, custom: CustomQuery | null): Promise<ModelSchema> {
  if (custom) {
    if (fields) throw badInput('input.fields', 'a custom query chooses its columns itself: leave fields out (send fields: null)');
    if (!source) throw badInput('input.customQuery', 'custom queries need the ClickHouse source, which this API process does not have');
    try {
      return await source.exportSchema({ teamId, model: customModel(custom), interval: { start: new Date(0), end: new Date(1) }, custom });
    } catch (err) {
      if (err instanceof CustomQueryError) throw badInput(`input.customQuery.${err.field}`, err.message);
      throw err;
    }
  }
  try {
    return fieldsSchema(model as 'events', fields);
  } catch (err) {
    if (err instanceof FieldSelectionError) throw badInput(`input.${err.path.replace(/\[(\d+)\]/g, '.$1')}`, err.message.slice(err.path.length + 2));
    throw err;
  }
}

@injectable()
export class BatchExportService {
  constructor(
    @inject(DATA_SOURCE) private readonly ds: DataSource,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(DestinationService) private readonly destinations: DestinationService,
    @inject(BackfillService) private readonly backfills: BackfillService,
    @inject(SOURCE, { isOptional: true }) private readonly source?: SchemaSource,
  ) {}

  /**
   * The columns an export with this definition would write, before it is created, and up to `limit` real rows of
   * the last day (none when no source is configured or the day is empty).
   */
  async previewSchema(
    teamId: number,
    input: { model: string; fields?: ExportFieldInput[] | null; customQuery?: CustomQueryInput | null; layout?: string; destinationType?: string | null },
    limit: number,
  ): Promise<ModelSchema & { rows: Row[] }> {
    let fields = storedFields(input.fields);
    const custom = storedCustomQuery(input.customQuery);
    const model = custom ? customModel(custom) : (input.model as 'events');
    if (input.layout === 'POSTHOG' && model === 'events') {
      if (!input.destinationType) throw badInput('destinationType', 'layout POSTHOG writes the columns PostHog writes to one kind of destination: give destinationType (postgres, bigquery, s3...)');
      const problem = posthogLayoutProblem(input.destinationType, fields, !!custom);
      if (problem) throw badInput('layout', problem);
      // The layout's own selection: derived values included, checked like any selection below.
      fields = layoutFields('POSTHOG', model, input.destinationType, null) ?? null;
    }
    const schema = await checkedSchema(this.source, teamId, model, fields, custom);
    const rows: Row[] = [];
    const take = Math.min(Math.max(limit, 0), 20);
    if (this.source && take > 0) {
      const end = this.clock.now();
      const q = { teamId, model, interval: { start: new Date(end.getTime() - 86_400_000), end }, ...(fields ? { fields } : {}), ...(custom ? { custom, schema } : {}) };
      for await (const batch of this.source.stream(q, { batchSize: take })) {
        rows.push(...batch.rows.slice(0, take));
        break;
      }
    }
    return { ...schema, rows };
  }

  async list(teamId: number, args: PageArgs, paused?: boolean | null): Promise<Connection<BatchExportEntity>> {
    const page = keysetPage(args);
    const q = this.ds
      .getRepository(BatchExportEntity)
      .createQueryBuilder('e')
      .addSelect(isoMicros('e.created_at'), 'sort_value')
      .where('e.team_id = :teamId AND e.deleted_at IS NULL', { teamId })
      .orderBy('e.created_at', page.order)
      .addOrderBy('e.id', page.order)
      .limit(page.limit + 1);
    if (paused !== undefined && paused !== null) q.andWhere('e.paused = :paused', { paused });
    const counter = q.clone();
    if (page.cursor) q.andWhere(`(e.created_at, e.id) ${page.pastCursor} (:ts::timestamptz, :id::uuid)`, { ts: page.cursor.sortValue, id: page.cursor.id });
    const { entities, raw } = await q.getRawAndEntities();
    const sortById = new Map(raw.map((r: Record<string, string>) => [r.e_id, r.sort_value]));
    return toConnection(entities.map((e) => ({ node: e, id: e.id, sortValue: sortById.get(e.id)! })), page, () => counter.getCount());
  }

  get(teamId: number, id: string): Promise<BatchExportEntity> {
    return loadExport(this.ds.manager, teamId, id);
  }

  async create(teamId: number, input: CreateBatchExportInput): Promise<BatchExportEntity> {
    const now = this.clock.now();
    const name = cleanName(input.name, 'input.name');
    const draft = {
      interval: input.interval as BatchExportEntity['interval'],
      timezone: input.timezone ?? 'UTC',
      offsetHour: input.offsetHour ?? 0,
      offsetDay: input.offsetDay ?? 0,
      startAt: input.startAt ?? null,
      endAt: input.endAt ?? null,
    };
    assertValidSchedule({ ...scheduleOf(draft), offsetHour: input.offsetHour, offsetDay: input.offsetDay });
    const includeEvents = cleanEvents(input.includeEvents ?? [], 'input.includeEvents');
    const excludeEvents = cleanEvents(input.excludeEvents ?? [], 'input.excludeEvents');
    const filters = validateFilters(input.filters ?? [], 'input.filters');
    assertSelectionFitsModel(input.model, { includeEvents, excludeEvents, filters });
    const maxConcurrentRuns = input.maxConcurrentRuns == null ? undefined : cleanConcurrency(input.maxConcurrentRuns, 'input.maxConcurrentRuns');
    const fields = storedFields(input.fields);
    const customQuery = storedCustomQuery(input.customQuery);
    if (customQuery) {
      input.model = customModel(customQuery) as typeof input.model;
      assertSelectionFitsModel('custom query', { includeEvents, excludeEvents, filters });
    }
    await checkedSchema(this.source, teamId, input.model, fields, customQuery);
    return this.ds.transaction(async (m) => {
      await this.checkDestination(m, teamId, input.destinationId, input.model, 'input.destinationId', 'input.model', { layout: input.layout ?? 'OUTPORT', fields, customQuery });
      const first = firstInterval(scheduleOf(draft), now);
      const row = m.getRepository(BatchExportEntity).create({
        teamId,
        name,
        destinationId: input.destinationId,
        model: input.model,
        ...draft,
        includeEvents,
        excludeEvents,
        filters,
        fields,
        customQuery,
        schemaMode: input.schemaMode ?? 'EVOLVE',
        layout: input.layout ?? 'OUTPORT',
        ...(maxConcurrentRuns === undefined ? {} : { maxConcurrentRuns }),
        paused: input.paused,
        pausedAt: input.paused ? now : null,
        pausedReason: null,
        // The first run is the interval in progress now; it runs once that interval closes.
        scheduledUntil: first ? first.start : draft.endAt,
      });
      return m.getRepository(BatchExportEntity).save(row);
    });
  }

  async update(teamId: number, id: string, patch: UpdateBatchExportInput): Promise<BatchExportEntity> {
    return this.ds.transaction(async (m) => {
      const e = await loadExport(m, teamId, id, { lock: true });
      if (patch.name !== undefined && patch.name !== null) e.name = cleanName(patch.name, 'input.name');
      const scheduleChanged = ['interval', 'timezone', 'offsetHour', 'offsetDay', 'startAt', 'endAt'].some((k) => (patch as unknown as Record<string, unknown>)[k] !== undefined);
      if (patch.interval != null) e.interval = patch.interval as BatchExportEntity['interval'];
      if (patch.timezone != null) e.timezone = patch.timezone;
      if (patch.startAt !== undefined) e.startAt = patch.startAt;
      if (patch.endAt !== undefined) e.endAt = patch.endAt;
      // Offsets not sent fall back to 0 when the new interval kind does not use them.
      const offsetHour = patch.offsetHour !== undefined ? patch.offsetHour : e.interval === 'day' || e.interval === 'week' ? e.offsetHour : null;
      const offsetDay = patch.offsetDay !== undefined ? patch.offsetDay : e.interval === 'week' ? e.offsetDay : null;
      if (scheduleChanged) {
        assertValidSchedule({ ...scheduleOf(e), offsetHour, offsetDay });
        e.offsetHour = offsetHour ?? 0;
        e.offsetDay = offsetDay ?? 0;
      }
      if (patch.includeEvents != null) e.includeEvents = cleanEvents(patch.includeEvents, 'input.includeEvents');
      if (patch.excludeEvents != null) e.excludeEvents = cleanEvents(patch.excludeEvents, 'input.excludeEvents');
      if (patch.filters != null) e.filters = validateFilters(patch.filters, 'input.filters') as StoredPropertyFilter[];
      if (patch.model != null) e.model = patch.model;
      if (patch.fields !== undefined) e.fields = storedFields(patch.fields);
      if (patch.customQuery !== undefined) e.customQuery = storedCustomQuery(patch.customQuery);
      if (e.customQuery) e.model = customModel(e.customQuery);
      if (patch.model != null || patch.fields !== undefined || patch.customQuery !== undefined) {
        await checkedSchema(this.source, teamId, e.model, e.fields, e.customQuery);
      }
      if (patch.model != null || patch.includeEvents != null || patch.excludeEvents != null || patch.filters != null || patch.customQuery != null) {
        // Only when the patch touches them: an export stored before this rule still accepts unrelated changes.
        assertSelectionFitsModel(e.customQuery ? 'custom query' : e.model, e);
      }
      if (patch.maxConcurrentRuns != null) e.maxConcurrentRuns = cleanConcurrency(patch.maxConcurrentRuns, 'input.maxConcurrentRuns');
      if (patch.schemaMode != null) e.schemaMode = patch.schemaMode;
      if (patch.destinationId != null) e.destinationId = patch.destinationId;
      if (patch.layout != null) e.layout = patch.layout;
      if (patch.model != null || patch.destinationId != null || patch.customQuery !== undefined || patch.layout != null || patch.fields !== undefined) {
        await this.checkDestination(m, teamId, e.destinationId, e.model, 'input.destinationId', 'input.model', e);
      }
      // scheduledUntil is deliberately left alone: it is where the export's coverage ends, and the scheduler starts
      // the new schedule exactly there (bridging to the new grid), so a schedule change neither skips nor repeats data.
      return m.getRepository(BatchExportEntity).save(e);
    });
  }

  /** Stops new attempts of the export's runs (see src/worker/paused-runs.ts); a running attempt finishes. */
  async pause(teamId: number, id: string): Promise<BatchExportEntity> {
    return this.ds.transaction(async (m) => {
      const e = await loadExport(m, teamId, id, { lock: true });
      if (e.paused) return e;
      e.paused = true;
      e.pausedAt = this.clock.now();
      e.pausedReason = null;
      await holdWaitingRuns(m, e.id);
      return m.getRepository(BatchExportEntity).save(e);
    });
  }

  /**
   * Resumes the schedule at the interval in progress now. The intervals between where the export's coverage ends
   * (`scheduledUntil`) and the start of the current interval closed while paused: with `backfillPausedGap` they
   * become a backfill (preceded by a scheduled bridging run when a schedule change left the coverage off the
   * current grid); otherwise they are skipped, and a WARN log entry on the export names the skipped range. When
   * the coverage already reaches past the start of the current interval (a coarser interval chosen while paused),
   * nothing is skipped and the schedule continues from the coverage's end, so nothing is exported twice. Runs held
   * by the pause (scheduled, backfill, retries) are queued again, oldest interval first.
   */
  async unpause(teamId: number, id: string, backfillPausedGap: boolean): Promise<BatchExportEntity> {
    let touched: Touched = { runs: [], backfills: [] };
    const saved = await this.ds.transaction(async (m) => {
      const e = await loadExport(m, teamId, id, { lock: true });
      if (!e.paused) return e;
      const now = this.clock.now();
      const schedule = scheduleOf(e);
      const resumeAt = intervalContaining(schedule, now).start;
      const coveredUntil = e.scheduledUntil ?? (e.pausedAt ? intervalContaining(schedule, e.pausedAt).start : resumeAt);
      const gapEnd = e.endAt && e.endAt < resumeAt ? e.endAt : resumeAt;
      e.paused = false;
      e.pausedAt = null;
      e.pausedReason = null;
      e.unpausedAt = now;
      if (coveredUntil < gapEnd) e.scheduledUntil = gapEnd;
      await m.getRepository(BatchExportEntity).save(e);
      await requeueWaitingRuns(m, e.id);
      if (coveredUntil < gapEnd && backfillPausedGap) {
        const around = intervalContaining(schedule, coveredUntil);
        const onGrid = around.start.getTime() === coveredUntil.getTime();
        const bridge = onGrid ? undefined : await this.insertBridgeRun(m, e, coveredUntil, around.end);
        const backfillFrom = onGrid ? coveredUntil : around.end;
        if (backfillFrom < gapEnd) touched = await this.backfills.createIn(m, teamId, e, backfillFrom, gapEnd, now);
        if (bridge) touched.runs.unshift(bridge);
      } else if (coveredUntil < gapEnd) {
        await m.query(`INSERT INTO log_entries (team_id, batch_export_id, level, message) VALUES ($1, $2, 'WARN', $3)`, [
          e.teamId,
          e.id,
          `Unpaused without backfilling the paused gap: data from ${coveredUntil.toISOString()} to ${gapEnd.toISOString()} was not exported. ` +
            'To export it, create a backfill of that range.',
        ]);
      }
      return e;
    });
    await publishTouched(this.ds, touched);
    return saved;
  }

  /**
   * A backfill covers whole intervals of the current grid; when the coverage ends between two of its boundaries
   * (the schedule changed while paused), the stretch up to the next boundary is a scheduled run of its own, so the
   * backfill after it neither overlaps the last run nor leaves a hole.
   */
  private async insertBridgeRun(m: EntityManager, e: BatchExportEntity, start: Date, end: Date): Promise<RunEntity | undefined> {
    const [inserted] = await m.query(
      `INSERT INTO runs (team_id, batch_export_id, interval_start, interval_end, status, trigger) VALUES ($1, $2, $3, $4, 'Starting', 'schedule')
       ON CONFLICT (batch_export_id, interval_start, interval_end) WHERE backfill_id IS NULL DO NOTHING RETURNING id`,
      [e.teamId, e.id, start, end],
    );
    if (!inserted) return undefined;
    const run = await m.getRepository(RunEntity).findOneByOrFail({ id: inserted.id });
    await enqueueRun(m, run);
    return run;
  }

  /** Soft delete: the row stays for history; queued runs and backfills are cancelled, running ones asked to stop. */
  async delete(teamId: number, id: string): Promise<BatchExportEntity> {
    const touched: Touched = { runs: [], backfills: [] };
    const saved = await this.ds.transaction(async (m) => {
      const e = await loadExport(m, teamId, id, { lock: true });
      const now = this.clock.now();
      e.deletedAt = now;
      await m.getRepository(BatchExportEntity).save(e);
      touched.runs = await cancelActiveRuns(m, { batchExportId: e.id }, now);
      touched.backfills = await m.query(
        `UPDATE backfills SET status = 'Cancelled', finished_at = $2 WHERE batch_export_id = $1 AND status IN ('Starting', 'Running')
         RETURNING id, team_id AS "teamId", batch_export_id AS "batchExportId"`,
        [e.id, now],
      ).then((r: [BackfillEntity[], number]) => r[0]);
      return e;
    });
    await publishTouched(this.ds, touched);
    return saved;
  }

  private async checkDestination(
    m: EntityManager, teamId: number, destinationId: string, model: string, destField: string, modelField: string,
    shape?: { layout: string; fields: FieldSelection[] | null; customQuery: CustomQuery | null },
  ): Promise<void> {
    let dest;
    try {
      dest = await loadDestination(m, teamId, destinationId);
    } catch {
      // Another team's destination is as absent as a missing one.
      throw apiError('NOT_FOUND', `${destField}: destination ${JSON.stringify(destinationId)} not found`, { field: destField });
    }
    const plugin = this.destinations.plugin(dest.type, destField);
    if (!plugin.models.includes(model as never)) {
      throw badInput(modelField, `destination type ${dest.type} does not support the ${model} model (supported: ${plugin.models.join(', ')})`);
    }
    const layoutProblem = shape?.layout === 'POSTHOG' && model === 'events' ? posthogLayoutProblem(dest.type, shape.fields, !!shape.customQuery) : null;
    if (layoutProblem) throw badInput('input.layout', layoutProblem);
  }
}
