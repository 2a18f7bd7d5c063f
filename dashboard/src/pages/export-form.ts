/**
 * Create or edit an export: name, model, interval, time zone and offsets, destination, event selection, property
 * filters, and the optional start/end bounds: every setting `createBatchExport` and `updateBatchExport` accept.
 * API errors are shown under the field they name (`extensions.field`, e.g. `input.filters.1.value`).
 */
import { gql } from '../api';
import { h, replace, uid } from '../dom';
import { INTERVAL_LABELS, isoToLocalInput, localInputToIso } from '../format';
import { FILTER_OPERATORS, Q, type BatchExport, type Destination, type Filter } from '../queries';
import { navigate } from '../router';
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
    FILTER_OPERATORS.map((o) => h('option', { value: o.value, selected: o.value === initial?.operator }, `${o.label} (${o.value})`)));
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
      gql<{ destinations: Destination[] }>(Q.destinations).then((r) => r.destinations),
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
  const syncVisibility = () => {
    hourField.hidden = !['DAY', 'WEEK'].includes(interval.value);
    dayField.hidden = interval.value !== 'WEEK';
    eventFields.hidden = model.value !== 'EVENTS';
  };
  interval.addEventListener('change', syncVisibility);
  model.addEventListener('change', syncVisibility);
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
      errors.clear();
      if (!name.value.trim()) {
        errors.show('name', 'Name is required');
        name.focus();
        return;
      }
      const events = model.value === 'EVENTS';
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
        startAt: bound(startAt),
        endAt: bound(endAt),
        ...(editing ? {} : { paused: paused.checked }),
      };
      for (const k of Object.keys(input)) if (input[k] === undefined) delete input[k];
      submit.disabled = true;
      try {
        if (existing) {
          await gql<{ updateBatchExport: BatchExport }>(Q.updateBatchExport, { id: existing.id, input });
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
    slot('model', field('Model', model, 'Events are immutable; persons and sessions are merged by key at destinations that support it.'), model),
    slot('interval', field('Interval', interval, 'Each run exports one interval, once it has closed.'), interval)),
  h('div', { class: 'grid-2' },
    slot('timezone', field('Time zone', timezone, 'IANA zone aligning hourly, daily and weekly intervals.'), timezone),
    h('div', null, hourField, dayField)),
  zoneList,
  slot('destinationId', field('Destination', destination, undefined, { required: true }), destination),
  eventFields,
  h('div', { class: 'grid-2' },
    slot('startAt', field('Start at (UTC)', startAt, 'Optional: no interval before this is exported. Empty: no bound.'), startAt),
    slot('endAt', field('End at (UTC)', endAt, 'Optional: no interval starting at or after this is exported; also caps backfills.'), endAt)),
  editing ? null : h('div', { class: 'field-checkbox' }, field('Create paused', paused)),
  h('div', { class: 'form-actions' }, submit, existing ? h('a', { href: `/exports/${existing.id}`, class: 'button' }, 'Cancel') : null));
  replace(body, form);
  name.focus();
}
