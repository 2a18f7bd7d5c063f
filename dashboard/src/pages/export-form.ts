/**
 * Create or edit an export: name, model, interval, time zone and offsets, destination, event selection, property
 * filters, and the optional start/end bounds: every setting `createBatchExport` and `updateBatchExport` accept.
 * API errors are shown under the field they name (`extensions.field`, e.g. `input.filters.1.value`).
 */
import { gql } from '../api';
import { h, replace, uid } from '../dom';
import { INTERVAL_LABELS, isoToLocalInput, localInputToIso } from '../format';
import { FIELD_TYPES, FILTER_OPERATORS, nodes, Q, type BatchExport, type Destination, type ExportField, type Filter, type SchemaPreview } from '../queries';
import { navigate } from '../router';
import { schemaPreview } from '../components/schema-preview';
import { field, formErrors, loading, notice, pageHeader } from '../components/ui';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

const needsOf = (operator: string) => FILTER_OPERATORS.find((o) => o.value === operator)?.needs ?? 'string';

/** A filter value as typed: numbers for comparisons, comma lists for exact/is_not, otherwise the text. */
export function filterValue(operator: string, raw: string): unknown {
  switch (needsOf(operator)) {
    case 'none': return undefined;
    case 'number': return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'scalar-or-list': return raw.includes(',') ? list(raw) : raw;
    default: return raw;
  }
}

const valueText = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v));

type Errors = ReturnType<typeof formErrors>;

function filterRow(n: number, errors: Errors, initial: Filter | undefined, onRemove: (row: HTMLElement) => void): HTMLElement {
  const key = h('input', { id: uid('filter-key'), name: 'filter-key', placeholder: '$browser', 'aria-label': `Filter ${n} property`, required: true, value: initial?.key ?? '' });
  const type = h('select', { id: uid('filter-type'), name: 'filter-type', 'aria-label': `Filter ${n} reads` },
    h('option', { value: 'EVENT', selected: initial?.type !== 'PERSON' }, 'event property'),
    h('option', { value: 'PERSON', selected: initial?.type === 'PERSON' }, 'person property'));
  const op = h('select', { id: uid('filter-operator'), name: 'filter-operator', 'aria-label': `Filter ${n} operator` },
    FILTER_OPERATORS.map((o) => h('option', { value: o.value, selected: o.value === initial?.operator }, `${o.label} (${o.value.toLowerCase()})`)));
  const value = h('input', { id: uid('filter-value'), name: 'filter-value', 'aria-label': `Filter ${n} value`, value: valueText(initial?.value) });
  const sync = () => {
    const needs = needsOf(op.value);
    value.disabled = needs === 'none';
    value.placeholder = needs === 'none' ? '(no value)' : needs === 'number' ? 'a number' : needs === 'scalar-or-list' ? 'value (a, b for several)' : 'text';
    value.inputMode = needs === 'number' ? 'decimal' : 'text';
  };
  op.addEventListener('change', sync);
  sync();
  const row: HTMLElement = h('div', { class: 'filter-row', 'data-filter': n }, key, type, op, value,
    h('button', { type: 'button', class: 'icon', 'aria-label': `Remove filter ${n}`, onclick: () => onRemove(row) }, '×'));
  const errorHolder = h('div', { class: 'filter-errors' });
  row.append(errorHolder);
  return row;
}


/** One chosen column as sent (`ExportFieldInput`), with the controls its error slots belong to. */
interface FieldEntry {
  value: ExportField;
  holder: HTMLElement;
  source: HTMLElement;
  alias: HTMLElement;
  type?: HTMLElement;
}

/**
 * The "Data" part of the form: the model's columns (subset, renamed) plus JSON extractions, or a custom query, with
 * a live schema preview. Sends `fields: null` when every model column is kept as is, so the export follows the
 * model (new Outport columns included) instead of freezing today's list.
 */
function dataSection(existing: BatchExport | undefined, model: HTMLSelectElement, errors: Errors) {
  const kind = uid('data-kind');
  const savedPosthog = existing?.layout === 'POSTHOG';
  const byModel = h('input', { type: 'radio', name: kind, value: 'model', checked: !existing?.customQuery && !savedPosthog });
  const byQuery = h('input', { type: 'radio', name: kind, value: 'custom', checked: !!existing?.customQuery });
  const byPosthog = h('input', { type: 'radio', name: kind, value: 'posthog', checked: savedPosthog });
  const custom = () => byQuery.checked;
  const posthog = () => byPosthog.checked;

  // ---- model columns ----
  const columnList = h('div', { class: 'column-list' }, loading());
  const columnsError = h('div');
  const columnsFieldset = h('fieldset', { class: 'columns-fieldset' }, h('legend', null, 'Columns'),
    h('small', { class: 'help' }, 'Uncheck to leave a column out; type a new name to rename it. Key and version columns stay.'),
    columnList, columnsError);
  let columns: { name: string; row: HTMLElement; check: HTMLInputElement; alias: HTMLInputElement; holder: HTMLElement }[] = [];
  /** The saved selection is applied to the first column list loaded for the saved model only. */
  let pendingSaved: ExportField[] | null | undefined = existing && !existing.customQuery ? existing.fields : undefined;
  const modelColumns = new Map<string, Promise<SchemaPreview>>();
  const columnsOf = (m: string) => {
    if (!modelColumns.has(m)) modelColumns.set(m, gql<{ previewExportSchema: SchemaPreview }>(Q.previewExportSchema, { model: m, rows: 0 }).then((r) => r.previewExportSchema));
    return modelColumns.get(m)!;
  };

  const extractions = h('div', { class: 'extractions' });
  let extractionCount = 0;
  const addExtraction = (initial?: ExportField) => {
    const n = ++extractionCount;
    const source = h('input', { name: 'extraction-source', placeholder: 'properties.$browser', 'aria-label': `JSON path ${n}`, autocomplete: 'off', spellcheck: 'false', value: initial?.source ?? '' });
    const alias = h('input', { name: 'extraction-alias', placeholder: 'browser', 'aria-label': `Alias ${n}`, autocomplete: 'off', spellcheck: 'false', value: initial?.alias ?? '' });
    const type = h('select', { name: 'extraction-type', 'aria-label': `Type ${n}` },
      FIELD_TYPES.map((t) => h('option', { value: t, selected: t === (initial?.type ?? 'STRING') }, t.toLowerCase())));
    const row: HTMLElement = h('div', { class: 'extraction-row', 'data-extraction': n }, source, alias, type,
      h('button', { type: 'button', class: 'icon', 'aria-label': `Remove JSON extraction ${n}`, onclick: () => { row.remove(); changed(); } }, '×'),
      h('div', { class: 'extraction-errors' }));
    extractions.append(row);
  };
  const extractionsFieldset = h('fieldset', { class: 'extractions-fieldset' }, h('legend', null, 'Values from JSON columns'),
    h('small', { class: 'help' }, 'A path into a JSON column (properties.$browser, person_properties.email), the column it lands in, and its type.'),
    extractions, h('button', { type: 'button', onclick: () => { addExtraction(); changed(); } }, 'Add JSON extraction'));

  const renderColumns = async () => {
    const m = model.value;
    let schema: SchemaPreview;
    try {
      schema = await columnsOf(m);
    } catch (err) {
      replace(columnList, h('p', { class: 'field-error' }, `Cannot list the model's columns: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    if (m !== model.value) return;
    const saved = pendingSaved;
    pendingSaved = undefined;
    const savedByName = new Map((saved ?? []).map((f) => [f.source, f]));
    const required = new Set([...schema.key, ...schema.versionColumns]);
    columns = schema.columns.map((c) => {
      const keep = required.has(c.name) || !saved || savedByName.has(c.name);
      const check = h('input', { type: 'checkbox', name: 'column', value: c.name, checked: keep, disabled: required.has(c.name), 'aria-label': `Export ${c.name}` });
      const alias = h('input', { name: 'column-alias', placeholder: c.name, 'aria-label': `Export ${c.name} as`, autocomplete: 'off', spellcheck: 'false', value: savedByName.get(c.name)?.alias ?? '' });
      const holder = h('div', { class: 'column-errors' });
      const row = h('div', { class: 'column-row', 'data-column': c.name },
        h('label', null, check, ' ', h('code', null, c.name), ' ', h('span', { class: 'muted' }, c.type), required.has(c.name) ? h('span', { class: 'muted' }, schema.key.includes(c.name) ? ' (key)' : ' (version)') : null),
        alias, holder);
      return { name: c.name, row, check, alias, holder };
    });
    replace(columnList, columns.map((c) => c.row));
    replace(extractions);
    (saved ?? []).filter((f) => !schema.columns.some((c) => c.name === f.source)).forEach((f) => addExtraction(f));
    changed();
  };

  /** The selection as `fields` with the controls of each entry, in the order sent (model columns, then JSON). */
  const entries = (): FieldEntry[] => {
    const chosen: FieldEntry[] = columns.filter((c) => c.check.checked).map((c) => ({
      value: { source: c.name, ...(c.alias.value.trim() ? { alias: c.alias.value.trim() } : {}) }, holder: c.holder, source: c.check, alias: c.alias,
    }));
    const json: FieldEntry[] = [...extractions.querySelectorAll<HTMLElement>('.extraction-row')].map((row) => {
      const [source, alias, type] = row.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select');
      return { value: { source: source.value.trim(), ...(alias.value.trim() ? { alias: alias.value.trim() } : {}), type: type.value as ExportField['type'] }, holder: row.querySelector<HTMLElement>('.extraction-errors')!, source, alias, type };
    });
    return [...chosen, ...json];
  };
  const everyColumnAsIs = () => columns.every((c) => c.check.checked && !c.alias.value.trim()) && !extractions.querySelector('.extraction-row');
  const fields = (): ExportField[] | null => (custom() || posthog() || everyColumnAsIs() ? null : entries().map((e) => e.value));

  // ---- custom query ----
  const cq = existing?.customQuery;
  const query = h('textarea', { name: 'customQuery.query', rows: 6, spellcheck: 'false', class: 'code',
    placeholder: 'SELECT uuid, event, timestamp FROM posthog.events\nWHERE timestamp >= {data_interval_start} AND timestamp < {data_interval_end}', value: cq?.query ?? '' });
  const primaryKey = h('input', { name: 'customQuery.primaryKey', placeholder: 'uuid', autocomplete: 'off', spellcheck: 'false', value: cq?.primaryKey.join(', ') ?? '' });
  const versionKey = h('input', { name: 'customQuery.versionKey', placeholder: 'version', autocomplete: 'off', spellcheck: 'false', value: cq?.versionKey.join(', ') ?? '' });
  const mode = h('select', { name: 'customQuery.mode' },
    h('option', { value: 'APPEND', selected: cq?.mode !== 'MERGE' }, 'Append: immutable rows, each key landed once'),
    h('option', { value: 'MERGE', selected: cq?.mode === 'MERGE' }, 'Merge: a row replaces the stored one when its version is higher'));
  const customQuery = () => (custom() ? { query: query.value, primaryKey: list(primaryKey.value), versionKey: list(versionKey.value), mode: mode.value } : null);
  const queryPane = h('div', { class: 'custom-query' });
  const slotted = (path: string, label: string, control: HTMLElement, help: string) => {
    const wrapper = field(label, control, help);
    errors.add(`customQuery.${path}`, wrapper, control);
    return wrapper;
  };
  queryPane.append(
    slotted('query', 'Query', query, 'A ClickHouse SELECT using {data_interval_start} and {data_interval_end}; it reads only your team\'s rows. Its output columns are the export\'s columns.'),
    h('div', { class: 'grid-2' },
      slotted('primaryKey', 'Primary key', primaryKey, 'Output columns identifying a row at the destination, comma-separated.'),
      slotted('mode', 'Mode', mode, 'Append for event-like rows; merge for rows that change (like persons).')),
    slotted('versionKey', 'Version key', versionKey, 'Merge only: output columns compared, in order, to decide whether a row replaces the stored one.'));
  const queryError = h('div');
  queryPane.append(queryError);
  errors.add('customQuery', queryError, query);

  const modelPane = h('div', { class: 'model-columns' }, columnsFieldset, extractionsFieldset);
  // previewExportSchema takes no layout: PostHog's columns depend on the destination's kind, so they are described.
  const posthogPane = h('p', { class: 'help', 'data-posthog-layout': '' },
    'Events only: the columns PostHog\'s batch exports write to this kind of destination, filled as PostHog fills them, so a table or bucket PostHog wrote keeps receiving rows unaltered. See the README, "Migrating from PostHog batch exports".');
  const preview = schemaPreview();
  const previewHint = h('p', { class: 'muted' });
  preview.el.append(previewHint);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const changed = () => {
    modelPane.hidden = !byModel.checked;
    queryPane.hidden = !custom();
    posthogPane.hidden = !posthog();
    preview.el.hidden = posthog();
    versionKey.closest<HTMLElement>('.field')!.hidden = mode.value !== 'MERGE';
    clearTimeout(timer);
    if (posthog()) return;
    const q = customQuery();
    if (q && (!q.query.trim() || !q.primaryKey.length)) {
      previewHint.textContent = 'Write the query and its primary key to see the columns it exports.';
      return;
    }
    previewHint.textContent = '';
    timer = setTimeout(() => void preview.refresh({ model: model.value, fields: fields(), customQuery: q }), 400);
  };

  const layoutError = h('div');
  const el = h('fieldset', { class: 'data-fieldset' }, h('legend', null, 'Data'),
    h('div', { class: 'radio-row', role: 'radiogroup', 'aria-label': 'What the export writes' },
      h('label', null, byModel, 'Pick columns'), h('label', null, byQuery, 'Custom query'), h('label', null, byPosthog, 'PostHog\'s layout')),
    layoutError, modelPane, queryPane, posthogPane, preview.el);
  errors.add('layout', layoutError, byPosthog);
  el.addEventListener('input', changed);
  el.addEventListener('change', changed);
  model.addEventListener('change', () => void renderColumns());
  void renderColumns();

  return {
    el,
    custom,
    layout: () => (posthog() ? 'POSTHOG' : 'OUTPORT'),
    fields,
    customQuery,
    /** Error slots of the chosen columns as they are numbered in the `fields` sent (input.fields.<index>.<part>). */
    registerSlots(): void {
      errors.remove('fields');
      columnsError.replaceChildren();
      errors.add('fields', columnsError, columnsFieldset);
      columns.forEach((c) => c.holder.replaceChildren());
      extractions.querySelectorAll('.extraction-errors').forEach((x) => x.replaceChildren());
      entries().forEach((e, i) => {
        errors.add(`fields.${i}.source`, e.holder, e.source);
        errors.add(`fields.${i}.alias`, e.holder, e.alias);
        if (e.type) errors.add(`fields.${i}.type`, e.holder, e.type);
        errors.add(`fields.${i}`, e.holder, e.source);
      });
    },
  };
}

export async function exportFormPage(outlet: HTMLElement, params: { id?: string } = {}): Promise<void> {
  const editing = params.id !== undefined;
  const msg = notice();
  const title = editing ? 'Edit export' : 'New export';
  const header = pageHeader(title);
  outlet.append(header, msg.el);
  const body = h('div', null, loading());
  outlet.append(body);
  let destinations: Destination[];
  let existing: BatchExport | undefined;
  try {
    [destinations, existing] = await Promise.all([
      gql<{ destinations: { edges: { node: Destination }[] } }>(Q.destinations).then((r) => nodes(r.destinations)),
      editing ? gql<{ batchExport: BatchExport }>(Q.batchExport, { id: params.id }).then((r) => r.batchExport) : Promise.resolve(undefined),
    ]);
  } catch (e) {
    replace(body);
    msg.error(e);
    return;
  }
  if (existing) header.prepend(h('p', { class: 'crumbs' }, h('a', { href: '/exports' }, 'Exports'), ' / ', h('a', { href: `/exports/${existing.id}` }, existing.name), ' / '));
  if (!destinations.length) {
    replace(body, h('p', { class: 'empty' }, 'An export writes to a destination: ', h('a', { href: '/destinations/new' }, 'create a destination'), ' first.'));
    return;
  }

  const e = existing;
  const errors = formErrors('input');
  const name = h('input', { name: 'name', required: true, maxlength: 200, autocomplete: 'off', value: e?.name ?? '' });
  const model = h('select', { name: 'model' }, ['EVENTS', 'PERSONS', 'SESSIONS'].map((m) => h('option', { value: m, selected: m === (e?.model ?? 'EVENTS') }, m.charAt(0) + m.slice(1).toLowerCase())));
  const interval = h('select', { name: 'interval' }, Object.entries(INTERVAL_LABELS).map(([v, l]) => h('option', { value: v, selected: v === (e?.interval ?? 'HOUR') }, l)));
  const zones = uid('zones');
  const timezone = h('input', { name: 'timezone', list: zones, value: e?.timezone ?? 'UTC', autocomplete: 'off', spellcheck: 'false' });
  const zoneList = h('datalist', { id: zones }, (Intl.supportedValuesOf?.('timeZone') ?? ['UTC']).map((z) => h('option', { value: z })));
  const offsetHour = h('input', { name: 'offsetHour', type: 'number', min: 0, max: 23, step: 1, value: String(e?.offsetHour ?? 0), inputmode: 'numeric' });
  const offsetDay = h('select', { name: 'offsetDay' }, WEEKDAYS.map((d, i) => h('option', { value: String(i), selected: i === (e?.offsetDay ?? 0) }, d)));
  const destination = h('select', { name: 'destinationId', required: true }, destinations.map((d) => h('option', { value: d.id, selected: d.id === e?.destinationId }, `${d.name} (${d.type})`)));
  const include = h('input', { name: 'includeEvents', placeholder: '$pageview, signed_up', autocomplete: 'off', value: e?.includeEvents.join(', ') ?? '' });
  const exclude = h('input', { name: 'excludeEvents', placeholder: '$feature_flag_called', autocomplete: 'off', value: e?.excludeEvents.join(', ') ?? '' });
  const startAt = h('input', { name: 'startAt', type: 'datetime-local', step: 60, value: e?.startAt ? isoToLocalInput(new Date(e.startAt)) : '' });
  const endAt = h('input', { name: 'endAt', type: 'datetime-local', step: 60, value: e?.endAt ? isoToLocalInput(new Date(e.endAt)) : '' });
  const paused = h('input', { name: 'paused', type: 'checkbox' });
  const schemaMode = h('select', { name: 'schemaMode' },
    h('option', { value: 'EVOLVE', selected: e?.schemaMode !== 'FROZEN' }, 'Evolve (add new columns)'),
    h('option', { value: 'FROZEN', selected: e?.schemaMode === 'FROZEN' }, 'Frozen (fail the run)'));
  const maxConcurrentRuns = h('input', { name: 'maxConcurrentRuns', type: 'number', min: 1, max: 32, step: 1, inputmode: 'numeric', value: String(e?.maxConcurrentRuns ?? 4) });
  const filters = h('div', { class: 'filters' });
  let filterCount = 0;
  const addFilter = (initial?: Filter) => {
    const n = ++filterCount;
    const row = filterRow(n, errors, initial, (r) => r.remove());
    filters.append(row);
  };
  e?.filters.forEach((f) => addFilter(f));

  /** A field with an error slot at `path` (the API's input path without `input.`). */
  const slot = (path: string, wrapper: HTMLElement, control: HTMLElement) => {
    errors.add(path, wrapper, control);
    return wrapper;
  };
  const hourField = slot('offsetHour', field('Offset hour', offsetHour, 'Hour of the local day (0–23) at which daily and weekly intervals start.'), offsetHour);
  const dayField = slot('offsetDay', field('Week starts on', offsetDay, 'Weekday at which weekly intervals start.'), offsetDay);
  const filtersFieldset = h('fieldset', { class: 'filters-fieldset' }, h('legend', null, 'Property filters (all must hold)'), filters,
    h('button', { type: 'button', onclick: () => addFilter() }, 'Add filter'));
  const filtersError = h('div');
  filtersFieldset.append(filtersError);
  const eventFields = h('div', null,
    slot('includeEvents', field('Only these events', include, 'Comma-separated event names; empty exports all events.'), include),
    slot('excludeEvents', field('Except these events', exclude, 'Comma-separated event names to leave out.'), exclude),
    filtersFieldset);
  errors.add('filters', filtersError, filtersFieldset);
  const data = dataSection(existing, model, errors);
  const modelField = slot('model', field('Model', model, 'Events are immutable; persons and sessions are merged by key at destinations that support it.'), model);
  const syncVisibility = () => {
    hourField.hidden = !['DAY', 'WEEK'].includes(interval.value);
    dayField.hidden = interval.value !== 'WEEK';
    // A custom query chooses its rows itself: no model, event selection or filters.
    modelField.hidden = data.custom();
    eventFields.hidden = model.value !== 'EVENTS' || data.custom();
  };
  interval.addEventListener('change', syncVisibility);
  model.addEventListener('change', syncVisibility);
  data.el.addEventListener('change', syncVisibility);
  syncVisibility();

  /** Error slots of the filter rows as they are now numbered (input.filters.<index>.<part>). */
  const registerFilterSlots = () => {
    errors.remove('filters');
    errors.add('filters', filtersError, filtersFieldset);
    [...filters.querySelectorAll<HTMLElement>('.filter-row')].forEach((row, i) => {
      const holder = row.querySelector<HTMLElement>('.filter-errors')!;
      holder.replaceChildren();
      const [k, t, o, v] = row.querySelectorAll<HTMLElement>('input, select');
      errors.add(`filters.${i}.key`, holder, k);
      errors.add(`filters.${i}.type`, holder, t);
      errors.add(`filters.${i}.operator`, holder, o);
      errors.add(`filters.${i}.value`, holder, v);
      errors.add(`filters.${i}`, holder, k);
    });
  };

  const submit = h('button', { type: 'submit', class: 'primary' }, editing ? 'Save changes' : 'Create export');
  const form = h('form', {
    class: 'card form', 'aria-label': title, novalidate: true,
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      msg.clear();
      registerFilterSlots();
      data.registerSlots();
      errors.clear();
      if (!name.value.trim()) {
        errors.show('name', 'Name is required');
        name.focus();
        return;
      }
      const events = model.value === 'EVENTS' && !data.custom();
      const rows = [...filters.querySelectorAll<HTMLElement>('.filter-row')];
      const bound = (input: HTMLInputElement) => localInputToIso(input.value) ?? (editing ? null : undefined);
      const input: Record<string, unknown> = {
        name: name.value.trim(),
        model: model.value,
        interval: interval.value,
        timezone: timezone.value.trim() || 'UTC',
        destinationId: destination.value,
        offsetHour: Number(offsetHour.value || 0),
        offsetDay: Number(offsetDay.value),
        // Hidden for persons and sessions (the API refuses them there): sent empty so an edit clears them.
        includeEvents: events ? list(include.value) : [],
        excludeEvents: events ? list(exclude.value) : [],
        filters: events ? rows.map((row) => {
          const [k, t, o, v] = row.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select');
          const value = filterValue(o.value, v.value);
          return { key: k.value.trim(), type: t.value, operator: o.value, ...(value === undefined ? {} : { value }) };
        }) : [],
        // null, not omitted: an edit back to every column or back to a model must clear the stored choice.
        fields: data.fields(),
        customQuery: data.customQuery(),
        layout: data.layout(),
        schemaMode: schemaMode.value,
        maxConcurrentRuns: Number(maxConcurrentRuns.value),
        startAt: bound(startAt),
        endAt: bound(endAt),
        ...(editing ? {} : { paused: paused.checked }),
      };
      for (const k of Object.keys(input)) if (input[k] === undefined) delete input[k];
      submit.disabled = true;
      try {
        if (existing) {
          await gql<{ updateBatchExport: BatchExport }>(Q.updateBatchExport, { input: { id: existing.id, ...input } });
          navigate(`/exports/${existing.id}?saved=1`);
        } else {
          const { createBatchExport } = await gql<{ createBatchExport: BatchExport }>(Q.createBatchExport, { input });
          navigate(`/exports/${createBatchExport.id}`);
        }
      } catch (err) {
        const unplaced = errors.showError(err);
        msg.error(unplaced.length ? unplaced.map((i) => i.message).join('\n') : 'Some fields need attention: see the messages under them.');
      } finally {
        submit.disabled = false;
      }
    },
  },
  slot('name', field('Name', name, undefined, { required: true }), name),
  h('div', { class: 'grid-2' },
    modelField,
    slot('interval', field('Interval', interval, 'Each run exports one interval, once it has closed.'), interval)),
  h('div', { class: 'grid-2' },
    slot('timezone', field('Time zone', timezone, 'IANA zone aligning hourly, daily and weekly intervals.'), timezone),
    h('div', null, hourField, dayField)),
  zoneList,
  slot('destinationId', field('Destination', destination, undefined, { required: true }), destination),
  eventFields,
  data.el,
  h('div', { class: 'grid-2' },
    slot('schemaMode', field('Schema changes', schemaMode, 'When the destination table lacks a column this export writes (a field added, a new Outport column, a new query column): evolve adds it (nullable, stored rows keep NULL; nothing is dropped or retyped); frozen fails the run and says how to proceed.'), schemaMode),
    slot('maxConcurrentRuns', field('Max concurrent runs', maxConcurrentRuns, 'Runs of this export executing at once (1–32), e.g. during a backfill or catch-up. Persons and sessions exports always run one at a time, in interval order.'), maxConcurrentRuns)),
  h('div', { class: 'grid-2' },
    slot('startAt', field('Start at (UTC)', startAt, 'Optional: no interval before this is exported. Empty: no bound.'), startAt),
    slot('endAt', field('End at (UTC)', endAt, 'Optional: no interval starting at or after this is exported; also caps backfills.'), endAt)),
  editing ? null : h('div', { class: 'field-checkbox' }, field('Create paused', paused)),
  h('div', { class: 'form-actions' }, submit, existing ? h('a', { href: `/exports/${existing.id}`, class: 'button' }, 'Cancel') : null));
  replace(body, form);
  name.focus();
}
