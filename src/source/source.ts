/**
 * Reads one run's rows of a model from ClickHouse, as RecordBatches in the exact shapes of src/sdk/models.ts.
 *
 * Interval rule (all models): a row belongs to the run whose [start, end) holds its INSERTION time
 * (`COALESCE(inserted_at, _timestamp)` for events, `_timestamp` for person tables). Backfills use the same
 * bound as scheduled runs, so a backfill followed by scheduled runs over the same period never reads a row twice
 * (PostHog's backfills bound on `timestamp` instead, PostHog #27699).
 *
 * Events: team only; `timestamp` must lie in [start - lookbackDays, end + 1 day) so ClickHouse prunes
 * partitions; deduplicated by uuid, and a uuid belongs to the interval of its FIRST insertion (a re-inserted
 * copy landing in a later interval is not read again, as long as the earlier copy still exists: once the
 * ReplacingMergeTree has collapsed the copies, only the survivor is known, and it is read in its own interval;
 * destinations merge events on (team_id, uuid), so this never duplicates there); ordered by insertion time,
 * event, uuid.
 *
 * Persons: each distinct id whose `person_distinct_id2` row, or whose person's `person` row, changed in the
 * interval (and that existed before `end`), at the LATEST versions stored (not the versions as of `end`: a ReplacingMergeTree discards older
 * versions on merge, so "as of end" could not be answered reliably; destinations keep the highest version
 * anyway, so re-reading an old interval can never move a row backwards). Deletions come out with
 * `is_deleted = true`. `fullSnapshot` gives every distinct id of the team first seen before `end`. A distinct id
 * whose person row has not arrived yet comes out with `person_version = NO_PERSON_VERSION` (-1) and NULL
 * properties and created_at; when the person row lands, its interval reads the distinct id again. A row PostHog
 * rewrote at the same version is read at its latest insertion. `_inserted_at` is the later insertion of the
 * distinct-id and person rows, the last of the version columns destinations order persons by (models.ts).
 *
 * Sessions: derived from events' `$session_id` property. A session is read when any of its events was inserted
 * in the interval, aggregated over all its events inserted before `end` (within the same timestamp guard).
 * `is_bounce` = at most one `$pageview` and duration under 10 s. `session_version` is the latest insertion time
 * in microseconds, so a later run's row for the same session always wins at the destination. utm_* come from
 * the session's first event (by timestamp). Events without `$session_id` belong to no session.
 *
 * Filters (includeEvents, excludeEvents, property filters) apply to the events model only: the API refuses them on
 * persons and sessions exports, and the source ignores them there.
 *
 * JSON functions (filters, set/set_once, sessions' $session_id, $current_url, utm_*) read `properties` and
 * `person_properties` through readableJson (json-document.ts): a lone surrogate escape, which ClickHouse's parsers
 * reject the whole document for, reads as U+FFFD there. The exported `properties`/`person_properties` are the
 * stored text byte for byte; set/set_once are re-serialized by ClickHouse (compact, escapes decoded).
 *
 * Every value reaches ClickHouse as a query parameter; identifiers come only from the validated SourceConfig.
 */
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { MODEL_SCHEMAS, NO_PERSON_VERSION, type Model, type ModelSchema, type RecordBatch, type Row } from '../sdk/models';
import type { SourceConfig } from './config';
import { QueryParams, READABLE_JSON, propertyFilterSql, readableJsonColumns, validatePropertyFilters, type PropertyFilter } from './filters';
import { readableJson } from './json-document';
import { countInvalidUtf8, withValidUtf8 } from './utf8';
import type { ReplacementCounter } from '../sdk/replacements';
import type { EncodedRun, KeySlice, WireFormat } from '../sdk/destination';
import { asSourceError } from './source-error';
import { SourceError } from '../sdk/classify';
import { encodedRun, eventSuspectCondition, eventSuspectsSelect, sliceCondition, type HostEncodedRun } from './encoded';
import { customQuerySchema, customQuerySql, inspectCustomQuery, placeholderParams, scopedSettings, type CustomQuery } from './custom-query';
import { fieldsSchema, fieldsSql, type FieldSelection } from './fields';

export interface SourceQuery {
  teamId: number;
  model: Model;
  /** [start, end): Dates, or ISO-8601 UTC strings (microseconds kept). */
  interval: { start: Date | string; end: Date | string };
  /** Only these events (events model). */
  includeEvents?: string[];
  /** Never these events (events model). */
  excludeEvents?: string[];
  /** Property filters, all of which must match (events model). */
  filters?: PropertyFilter[];
  /** Persons: every distinct id of the team as of `end`, not just the changed ones. */
  fullSnapshot?: boolean;
  /** Only these columns, renamed or extracted from JSON (fields.ts). Default: every column of the model. */
  fields?: FieldSelection[];
  /** A custom query export (custom-query.ts); `model` is then `events` (append mode) or `persons` (merge). */
  custom?: CustomQuery;
  /** A custom query's schema, from `exportSchema()` (which also re-checks the query's safety). */
  schema?: ModelSchema;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** Rows per batch. Default: the config's batchSize. */
  batchSize?: number;
  /** Receives, per column, the values whose invalid UTF-8 was replaced (see utf8.ts). */
  replacements?: ReplacementCounter;
}

export interface SourceEstimate {
  rows: number;
  /** Approximate size of the rows as exported. */
  bytes: number;
  /** False: computed without deduplication, for showing before a long backfill. */
  exact: false;
}

const DAY_MS = 86_400_000;
const ts = (expr: string) => `concat(replaceOne(toString(${expr}), ' ', 'T'), 'Z')`;
const DT = "DateTime64(6, 'UTC')";
const BASE_SETTINGS: ClickHouseSettings = { output_format_json_quote_64bit_integers: 0 };

export class ClickHouseSource {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly config: SourceConfig,
  ) {}

  /** The number of rows `stream(q)` yields (reported before streaming, for progress and reconciliation). */
  async count(q: SourceQuery, signal?: AbortSignal): Promise<number> {
    const { sql, params, settings } = this.build(q, 'count');
    try {
      const rs = await this.client.query({
        query: sql,
        query_params: params.values,
        format: 'JSONEachRow',
        abort_signal: signal,
        clickhouse_settings: settings,
      });
      const rows = await rs.json<{ n: number }>();
      // An aggregate without GROUP BY answers one row, even over no rows: anything else is a cut answer, not 0.
      if (rows.length !== 1 || !Number.isFinite(Number(rows[0].n))) throw new SourceError(`ClickHouse answered the run's count query with ${rows.length} rows instead of one`);
      return Number(rows[0].n);
    } catch (err) {
      throwIfAborted(signal);
      throw asSourceError(err);
    }
  }

  /** The run's rows in batches, streamed with bounded memory; aborting the signal aborts the HTTP request. */
  async *stream(q: SourceQuery, options: StreamOptions = {}): AsyncGenerator<RecordBatch> {
    const batchSize = options.batchSize ?? this.config.batchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer (got ${batchSize})`);
    const { sql, params, settings } = this.build(q, 'rows');
    const schema = this.schemaFor(q);
    const columns = schema.columns.map((c) => c.name);
    const { signal } = options;
    throwIfAborted(signal);
    const request = new AbortController();
    let closeResult = () => {};
    // Aborting the request alone can leave an already-flowing response stream hanging: close it too.
    const onAbort = () => {
      request.abort();
      closeResult();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      const rs = await this.client.query({
        query: sql,
        query_params: params.values,
        format: 'JSONCompactEachRow',
        abort_signal: request.signal,
        clickhouse_settings: settings,
      });
      closeResult = () => rs.close();
      throwIfAborted(signal);
      let rows: Row[] = [];
      let size = 0;
      for await (const chunk of rs.stream<unknown[]>()) {
        for (const line of chunk) {
          const values = JSON.parse(line.text) as Row[keyof Row][];
          if (values.length > columns.length) countInvalidUtf8(values.pop(), schema, options.replacements);
          const row: Row = {};
          for (let i = 0; i < columns.length; i++) row[columns[i]] = values[i];
          rows.push(row);
          size += line.text.length;
          if (rows.length >= batchSize) {
            yield { rows, sizeBytes: size };
            throwIfAborted(signal);
            rows = [];
            size = 0;
          }
        }
        throwIfAborted(signal);
      }
      // An aborted response can end quietly instead of failing: never report a cut-short run as complete.
      throwIfAborted(signal);
      if (rows.length > 0) yield { rows, sizeBytes: size };
      finished = true;
    } catch (err) {
      throwIfAborted(signal);
      throw asSourceError(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!finished) onAbort();
    }
  }

  /**
   * The byte path (encoded.ts): the rows `stream(q)` yields, encoded by ClickHouse in `format`, as streams of the
   * whole run or of disjoint key slices, with exact counts. Aborting the signal aborts every open query.
   */
  encodedRun(
    q: SourceQuery,
    format: WireFormat,
    options: { signal?: AbortSignal; onBytes?(n: number): void; expectedRows?: number; unsortedFromRows?: number } = {},
  ): HostEncodedRun {
    if (!this.canEncode(q)) throw new Error('the byte path exports whole models only: custom queries and field selections take the row path');
    const { sql, params, settings } = this.build(q, 'rows', { withoutUtf8Rule: true });
    return encodedRun({
      client: this.client,
      rowsSql: sql,
      params: params.values,
      settings,
      rowsSqlFor: q.model === 'events' ? (slice) => this.build(q, 'rows', { slice, withoutUtf8Rule: true }).sql : undefined,
      schema: MODEL_SCHEMAS[q.model],
      format,
      expectedRows: options.expectedRows,
      unsortedFromRows: options.unsortedFromRows,
      suspectsSql: q.model === 'events' ? this.build(q, 'estimate', { estimateSelect: eventSuspectsSelect(format) }).sql : undefined,
      suspectRowsSql: q.model === 'events' ? this.build(q, 'rows', { withoutUtf8Rule: true, onlyUuidsWhere: eventSuspectCondition(format) }).sql : undefined,
      ...(q.model === 'events'
        ? {
            duplicatesSql: this.build(q, 'estimate', { estimateSelect: 'count() - uniqExact(uuid) AS duplicates' }).sql,
            unorderedRowsSqlFor: (slice?: KeySlice) => this.build(q, 'rows', { slice, withoutUtf8Rule: true, unordered: true }).sql,
          }
        : {}),
      signal: options.signal,
      onBytes: options.onBytes,
    });
  }

  /** True when `encodedRun(q)` can serve the query: a whole model, not a custom query or a field selection. */
  canEncode(q: SourceQuery): boolean {
    return !q.custom && !q.fields?.length;
  }

  /** Rows and bytes a (wide) range would export with the run's selection, cheaply and without deduplication. */
  async estimate(q: SourceQuery): Promise<SourceEstimate> {
    const { sql, params, settings } = this.build(q, 'estimate');
    try {
      const rs = await this.client.query({ query: sql, query_params: params.values, format: 'JSONEachRow', clickhouse_settings: settings });
      const [r] = await rs.json<{ rows: number; bytes: number }>();
      return { rows: Number(r?.rows ?? 0), bytes: Number(r?.bytes ?? 0), exact: false };
    } catch (err) {
      throw asSourceError(err);
    }
  }

  /** The SQL and parameters for a query; exposed for tests and EXPLAIN. */
  build(
    q: SourceQuery,
    shape: 'rows' | 'count' | 'estimate',
    /**
     * slice: one key slice of the run (byte path); withoutUtf8Rule: rows without the invalid-UTF-8 wrap and mask;
     * onlyUuidsWhere (events): only the uuids of which some copy in the run's window meets this condition over the
     * events table's columns, filtered before deduplication, so each such uuid's row is the whole query's;
     * unordered (events rows): without the sort that picks one copy per uuid, for a window known to hold one copy of
     * each (the byte path's table formats, whose row order means nothing): ClickHouse then streams from the first
     * block and formats on every thread instead of after a sort of the whole run.
     */
    options: { slice?: KeySlice; withoutUtf8Rule?: boolean; estimateSelect?: string; onlyUuidsWhere?: string; unordered?: boolean } = {},
  ): { sql: string; params: QueryParams; settings: ClickHouseSettings } {
    const { start, end } = validateQuery(q);
    const params = new QueryParams();
    const p = {
      team: params.add('Int64', q.teamId),
      start: params.add(DT, chTime(start)),
      end: params.add(DT, chTime(end)),
      lo: params.add(DT, chTime(new Date(start.getTime() - this.config.lookbackDays * DAY_MS))),
      hi: params.add(DT, chTime(new Date(end.getTime() + DAY_MS))),
    };
    const settings: ClickHouseSettings = { ...BASE_SETTINGS };
    if (q.custom) {
      Object.assign(params.values, placeholderParams(chTime(start), chTime(end)));
      const customSql = customQuerySql(q.custom, customQuerySchema(q.schema), shape);
      return { sql: shape === 'rows' ? withValidUtf8(customSql, this.schemaFor(q)) : customSql, params, settings: { ...settings, ...scopedSettings(this.config, q.teamId) } };
    }
    const sql =
      q.model === 'events'
        ? this.eventsSql(q, p, params, shape, options)
        : q.model === 'persons'
          ? this.personsSql(q, p, shape, settings)
          : this.sessionsSql(p, shape);
    const selected = q.fields?.length && shape === 'rows' ? fieldsSql(q.model, q.fields, sql, params) : sql;
    return { sql: shape === 'rows' && !options.withoutUtf8Rule ? withValidUtf8(selected, this.schemaFor(q)) : selected, params, settings };
  }

  /**
   * The columns the export writes (what destinations get as `ctx.schema`). A custom query's are asked from
   * ClickHouse, after checking the query is safe to run for the team (custom-query.ts): call this before count()
   * or stream(), and pass the result as `q.schema`.
   */
  async exportSchema(q: SourceQuery): Promise<ModelSchema> {
    if (q.custom) return inspectCustomQuery(q.custom, { client: this.client, config: this.config, teamId: q.teamId });
    return fieldsSchema(q.model, q.fields);
  }

  private schemaFor(q: SourceQuery): ModelSchema {
    return q.custom ? customQuerySchema(q.schema) : fieldsSchema(q.model, q.fields);
  }

  private table(name: 'events' | 'person' | 'personDistinctId'): string {
    return `${this.config.database}.${this.config.tables[name]}`;
  }

  private eventsSql(
    q: SourceQuery,
    p: Bounds,
    params: QueryParams,
    shape: string,
    { slice, estimateSelect, onlyUuidsWhere, unordered }: { slice?: KeySlice; estimateSelect?: string; onlyUuidsWhere?: string; unordered?: boolean },
  ): string {
    const events = this.table('events');
    const ins = `coalesce(inserted_at, toDateTime64(_timestamp, 6, 'UTC'))`;
    const guard = `team_id = ${p.team} AND timestamp >= ${p.lo} AND timestamp < ${p.hi}`;
    const inInterval = `${ins} >= ${p.start} AND ${ins} < ${p.end}`;
    // The run's selection; the estimate applies it too, only without deduplication by uuid.
    const selection: string[] = [];
    if (q.includeEvents?.length) selection.push(`event IN ${params.add('Array(String)', q.includeEvents)}`);
    if (q.excludeEvents?.length) selection.push(`event NOT IN ${params.add('Array(String)', q.excludeEvents)}`);
    selection.push(...propertyFilterSql(validatePropertyFilters(q.filters), params));
    if (shape === 'estimate') {
      return `WITH ${readableJsonColumns()}
        SELECT ${estimateSelect ?? 'count() AS rows, sum(length(properties) + length(person_properties) + length(elements_chain) + length(distinct_id) + length(event) + 250) AS bytes'}
        FROM ${events} WHERE ${[guard, inInterval, ...selection].join(' AND ')}`;
    }
    const where = [
      guard,
      inInterval,
      // A uuid first inserted in an earlier interval was read by that interval's run.
      `uuid NOT IN (SELECT uuid FROM ${events} WHERE ${guard} AND ${ins} < ${p.start}
         AND uuid IN (SELECT uuid FROM ${events} WHERE ${guard} AND ${inInterval}))`,
      ...selection,
    ];
    // A byte-path slice (encoded.ts), filtered before deduplication: a uuid's copies all fall in one slice.
    const inSlice = sliceCondition('cityHash64(uuid)', slice);
    if (inSlice) where.push(inSlice);
    if (onlyUuidsWhere) where.push(`uuid IN (SELECT uuid FROM ${events} WHERE ${guard} AND ${inInterval} AND (${onlyUuidsWhere}))`);
    if (shape === 'count') return `SELECT count() AS n FROM (WITH ${readableJsonColumns()} SELECT uuid FROM ${events} WHERE ${where.join(' AND ')} LIMIT 1 BY uuid)`;
    // Formatting happens in the outer query: its aliases reuse column names and must not leak into WHERE.
    return `SELECT
        team_id,
        toString(uuid) AS uuid,
        event,
        distinct_id,
        nullIf(toString(person_id), '00000000-0000-0000-0000-000000000000') AS person_id,
        ${ts('timestamp')} AS timestamp,
        ${ts('created_at')} AS created_at,
        ${ts('_ins')} AS _inserted_at,
        nullIf(properties, '') AS properties,
        nullIf(person_properties, '') AS person_properties,
        _set AS set,
        _set_once AS set_once,
        elements_chain
      FROM (
        WITH ${readableJsonColumns()}
        SELECT team_id, uuid, event, distinct_id, person_id, timestamp, created_at, properties, person_properties,
          elements_chain, ${ins} AS _ins,
          -- Derived here so the sort below carries them, not a second copy of properties.
          if(JSONHas(${READABLE_JSON.properties}, '$set'), JSONExtractRaw(${READABLE_JSON.properties}, '$set'), NULL) AS _set,
          if(JSONHas(${READABLE_JSON.properties}, '$set_once'), JSONExtractRaw(${READABLE_JSON.properties}, '$set_once'), NULL) AS _set_once
        FROM ${events}
        WHERE ${where.join('\n          AND ')}${unordered ? '' : `
        ORDER BY _ins, event, uuid
        LIMIT 1 BY uuid`}
      )${unordered ? '' : `
      ORDER BY _ins, event, uuid`}`;
  }

  private personsSql(q: SourceQuery, p: Bounds, shape: string, settings: ClickHouseSettings): string {
    const person = this.table('person');
    const pdi = this.table('personDistinctId');
    const changedPdi = `SELECT distinct_id FROM ${pdi} WHERE team_id = ${p.team} AND _timestamp >= ${p.start} AND _timestamp < ${p.end}`;
    const changedPerson = `SELECT id FROM ${person} WHERE team_id = ${p.team} AND _timestamp >= ${p.start} AND _timestamp < ${p.end}`;
    const incremental = !q.fullSnapshot;
    if (shape === 'estimate') {
      return incremental
        ? `SELECT uniq(distinct_id) AS rows, rows * 300 AS bytes FROM ${pdi} WHERE team_id = ${p.team} AND (distinct_id IN (${changedPdi}) OR person_id IN (${changedPerson}))`
        : `SELECT uniq(distinct_id) AS rows, rows * 300 AS bytes FROM ${pdi} WHERE team_id = ${p.team} AND _timestamp < ${p.end}`;
    }
    // Latest version of each candidate distinct id: every row of that id counts, or argMax would miss newer rows.
    const candidates = incremental
      ? `AND distinct_id IN (SELECT distinct_id FROM ${pdi} WHERE team_id = ${p.team} AND _timestamp < ${p.end}
          AND (distinct_id IN (${changedPdi}) OR person_id IN (${changedPerson})))`
      : `AND distinct_id IN (SELECT distinct_id FROM ${pdi} WHERE team_id = ${p.team} AND _timestamp < ${p.end})`;
    // PostHog sometimes rewrites a row at the same version: the later insertion is the current one.
    const latest = `(version, _timestamp)`;
    const latestPdi = `SELECT distinct_id, argMax(person_id, ${latest}) AS person_id, max(version) AS pdi_version,
        argMax(is_deleted, ${latest}) AS pdi_deleted, argMax(_timestamp, ${latest}) AS pdi_ts
      FROM ${pdi} WHERE team_id = ${p.team} ${candidates}
      GROUP BY distinct_id`;
    const latestPerson = `SELECT id, argMax(properties, ${latest}) AS properties, max(version) AS person_version,
        argMax(is_deleted, ${latest}) AS person_deleted, argMax(created_at, ${latest}) AS created_at, argMax(_timestamp, ${latest}) AS person_ts
      FROM ${person} WHERE team_id = ${p.team}
        AND id IN (SELECT person_id FROM ${pdi} WHERE team_id = ${p.team} ${candidates})
      GROUP BY id`;
    const outerWhere = incremental ? `WHERE d.distinct_id IN (${changedPdi}) OR d.person_id IN (${changedPerson})` : '';
    settings.join_use_nulls = 1;
    if (shape === 'count') {
      return `SELECT count() AS n FROM (${latestPdi}) AS d ${outerWhere}`;
    }
    return `SELECT
        toInt64(${p.team}) AS team_id,
        d.distinct_id AS distinct_id,
        toString(d.person_id) AS person_id,
        p.properties AS properties,
        coalesce(toInt64(p.person_version), toInt64(${NO_PERSON_VERSION})) AS person_version,
        toInt64(d.pdi_version) AS person_distinct_id_version,
        toBool(d.pdi_deleted = 1 OR coalesce(p.person_deleted, 0) = 1) AS is_deleted,
        if(p.created_at IS NULL, NULL, ${ts("toDateTime64(assumeNotNull(p.created_at), 6, 'UTC')")}) AS created_at,
        ${ts("toDateTime64(greatest(d.pdi_ts, coalesce(p.person_ts, d.pdi_ts)), 6, 'UTC')")} AS _inserted_at
      FROM (${latestPdi}) AS d
      LEFT JOIN (${latestPerson}) AS p ON d.person_id = p.id
      ${outerWhere}
      ORDER BY distinct_id`;
  }

  private sessionsSql(p: Bounds, shape: string): string {
    const events = this.table('events');
    const ins = `coalesce(inserted_at, toDateTime64(_timestamp, 6, 'UTC'))`;
    const guard = `team_id = ${p.team} AND timestamp >= ${p.lo} AND timestamp < ${p.hi}`;
    const json = readableJson('properties');
    const sid = `JSONExtractString(${json}, '$session_id')`;
    const touched = `SELECT ${sid} AS s FROM ${events} WHERE ${guard} AND ${ins} >= ${p.start} AND ${ins} < ${p.end} AND ${sid} != ''`;
    if (shape === 'estimate') return `SELECT uniq(s) AS rows, rows * 400 AS bytes FROM (${touched})`;
    if (shape === 'count') return `SELECT uniqExact(s) AS n FROM (${touched})`;
    const utm = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];
    // Three levels so that no alias shadows a column it is computed from.
    return `SELECT
        team_id,
        session_id,
        tupleElement(first, 1) AS distinct_id,
        ${ts('s_start')} AS start_timestamp,
        ${ts('s_end')} AS end_timestamp,
        s_duration AS duration_seconds,
        s_entry_url AS entry_url,
        s_exit_url AS exit_url,
        s_pageviews AS pageview_count,
        s_autocaptures AS autocapture_count,
        toBool(s_pageviews <= 1 AND s_duration < 10) AS is_bounce,
        ${utm.map((u, i) => `tupleElement(first, ${i + 2}) AS ${u}`).join(',\n        ')},
        toInt64(toUnixTimestamp64Micro(s_ins)) AS session_version,
        ${ts('s_ins')} AS _inserted_at
      FROM (
        SELECT team_id, e_session_id AS session_id,
          min(e_timestamp) AS s_start,
          max(e_timestamp) AS s_end,
          dateDiff('microsecond', s_start, s_end) / 1e6 AS s_duration,
          argMinIf(e_url, e_timestamp, e_url IS NOT NULL) AS s_entry_url,
          argMaxIf(e_url, e_timestamp, e_url IS NOT NULL) AS s_exit_url,
          toInt64(countIf(e_event = '$pageview')) AS s_pageviews,
          toInt64(countIf(e_event = '$autocapture')) AS s_autocaptures,
          max(e_ins) AS s_ins,
          argMin(tuple(e_distinct_id, ${utm.map((u) => `e_${u}`).join(', ')}), (e_timestamp, e_uuid)) AS first
        FROM (
          SELECT team_id, uuid AS e_uuid, event AS e_event, distinct_id AS e_distinct_id, timestamp AS e_timestamp,
            ${ins} AS e_ins, ${sid} AS e_session_id,
            JSONExtract(${json}, '$current_url', 'Nullable(String)') AS e_url,
            ${utm.map((u) => `JSONExtract(${json}, '${u}', 'Nullable(String)') AS e_${u}`).join(',\n            ')}
          FROM ${events}
          WHERE ${guard} AND ${ins} < ${p.end} AND ${sid} IN (SELECT s FROM (${touched}))
          ORDER BY e_ins
          LIMIT 1 BY e_uuid
        )
        GROUP BY team_id, session_id
      )
      ORDER BY session_id`;
  }

  /**
   * When the team's data of a model begins by the interval rule (insertion time), or null when it has none; where a
   * backfill "from the first event" starts. Sessions are made of events, so they begin with them; persons begin with
   * the first distinct-id row, as a persons run reads from distinct ids.
   */
  async firstDataAt(teamId: number, model: Model): Promise<Date | null> {
    if (!Number.isSafeInteger(teamId)) throw new Error(`teamId must be an integer (got ${JSON.stringify(teamId)})`);
    const params = new QueryParams();
    const team = params.add('Int64', teamId);
    const first =
      model === 'persons'
        ? `SELECT toUnixTimestamp64Micro(toDateTime64(minOrNull(_timestamp), 6, 'UTC')) AS us FROM ${this.table('personDistinctId')} WHERE team_id = ${team}`
        : `SELECT toUnixTimestamp64Micro(minOrNull(coalesce(inserted_at, toDateTime64(_timestamp, 6, 'UTC')))) AS us
           FROM ${this.table('events')} WHERE team_id = ${team}`;
    const [row] = await this.client
      .query({ query: first, query_params: params.values, format: 'JSONEachRow', clickhouse_settings: BASE_SETTINGS })
      .then((rs) => rs.json<{ us: string | number | null }>())
      .catch((err) => Promise.reject(asSourceError(err)));
    // Down to the millisecond: rounding up could carry the first row past an interval boundary.
    return row?.us === null || row?.us === undefined ? null : new Date(Math.floor(Number(row.us) / 1000));
  }
}

interface Bounds {
  team: string;
  start: string;
  end: string;
  lo: string;
  hi: string;
}

function validateQuery(q: SourceQuery): { start: Date; end: Date } {
  if (!Number.isSafeInteger(q.teamId)) throw new Error(`teamId must be an integer (got ${JSON.stringify(q.teamId)})`);
  if (!(q.model in MODEL_SCHEMAS)) throw new Error(`model must be one of ${Object.keys(MODEL_SCHEMAS).join(', ')} (got ${JSON.stringify(q.model)})`);
  const start = toDate(q.interval?.start, 'interval.start');
  const end = toDate(q.interval?.end, 'interval.end');
  if (start.getTime() >= end.getTime()) throw new Error(`interval.start must be before interval.end (${start.toISOString()} >= ${end.toISOString()})`);
  for (const [name, list] of [['includeEvents', q.includeEvents], ['excludeEvents', q.excludeEvents]] as const) {
    if (list !== undefined && (!Array.isArray(list) || !list.every((e) => typeof e === 'string'))) {
      throw new Error(`${name} must be a list of event names`);
    }
  }
  return { start, end };
}

function toDate(v: Date | string | undefined, name: string): Date {
  const d = typeof v === 'string' ? new Date(v) : v;
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new Error(`${name} must be a Date or an ISO-8601 string (got ${JSON.stringify(v)})`);
  // Keep sub-millisecond digits of an ISO string: they decide which run a row belongs to.
  if (typeof v === 'string') (d as Date & { micros?: string }).micros = /\.\d{3}(\d{1,3})/.exec(v)?.[1];
  return d;
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), the text form of a DateTime64(6) parameter. */
function chTime(d: Date): string {
  const micros = ((d as Date & { micros?: string }).micros ?? '').padEnd(3, '0');
  return `${d.toISOString().slice(0, 23).replace('T', ' ')}${micros}`;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (!signal?.aborted) return;
  const reason = signal.reason;
  if (reason instanceof Error) throw reason;
  const err = new Error(typeof reason === 'string' ? reason : 'the stream was aborted');
  err.name = 'AbortError';
  throw err;
}
