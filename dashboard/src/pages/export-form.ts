/** Create an export: model, interval, time zone and offsets, event filters, destination. */
import { ApiError, gql } from '../api';
import { h, replace, uid } from '../dom';
import { INTERVAL_LABELS } from '../format';
import { Q, type BatchExport, type Destination } from '../queries';
import { navigate } from '../router';
import { field, loading, notice, pageHeader } from '../components/ui';

const OPERATORS = ['exact', 'is_not', 'icontains', 'not_icontains', 'regex', 'not_regex', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/** A filter value as typed: numbers for comparisons, comma lists for exact/is_not, otherwise the text. */
function filterValue(operator: string, raw: string): unknown {
  if (operator === 'is_set' || operator === 'is_not_set') return undefined;
  if (['gt', 'gte', 'lt', 'lte'].includes(operator) && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  if ((operator === 'exact' || operator === 'is_not') && raw.includes(',')) return list(raw);
  return raw;
}

function filterRow(index: () => number, onRemove: (row: HTMLElement) => void): HTMLElement {
  const n = index();
  const key = h('input', { name: 'filter-key', placeholder: '$browser', 'aria-label': `Filter ${n} property`, required: true });
  const op = h('select', { name: 'filter-operator', 'aria-label': `Filter ${n} operator` }, OPERATORS.map((o) => h('option', { value: o }, o)));
  const value = h('input', { name: 'filter-value', placeholder: 'value (a, b for several)', 'aria-label': `Filter ${n} value` });
  op.addEventListener('change', () => {
    value.disabled = op.value === 'is_set' || op.value === 'is_not_set';
  });
  const row: HTMLElement = h('div', { class: 'filter-row' }, key, op, value,
    h('button', { type: 'button', class: 'icon', 'aria-label': `Remove filter ${n}`, onclick: () => onRemove(row) }, '×'));
  return row;
}

export async function exportFormPage(outlet: HTMLElement): Promise<void> {
  const msg = notice();
  outlet.append(pageHeader('New export'), msg.el);
  const body = h('div', null, loading());
  outlet.append(body);
  let destinations: Destination[];
  try {
    destinations = (await gql<{ destinations: Destination[] }>(Q.destinations)).destinations;
  } catch (e) {
    replace(body);
    msg.error(e);
    return;
  }
  if (!destinations.length) {
    replace(body, h('p', { class: 'empty' }, 'An export writes to a destination: ', h('a', { href: '/destinations/new' }, 'create a destination'), ' first.'));
    return;
  }

  const name = h('input', { name: 'name', required: true, maxlength: 200, autocomplete: 'off' });
  const model = h('select', { name: 'model' }, ['EVENTS', 'PERSONS', 'SESSIONS'].map((m) => h('option', { value: m }, m.charAt(0) + m.slice(1).toLowerCase())));
  const interval = h('select', { name: 'interval' }, Object.entries(INTERVAL_LABELS).map(([v, l]) => h('option', { value: v, selected: v === 'HOUR' }, l)));
  const zones = uid('zones');
  const timezone = h('input', { name: 'timezone', list: zones, value: 'UTC', autocomplete: 'off', spellcheck: 'false' });
  const zoneList = h('datalist', { id: zones }, (Intl.supportedValuesOf?.('timeZone') ?? ['UTC']).map((z) => h('option', { value: z })));
  const offsetHour = h('input', { name: 'offsetHour', type: 'number', min: 0, max: 23, step: 1, value: '0', inputmode: 'numeric' });
  const offsetDay = h('select', { name: 'offsetDay' }, WEEKDAYS.map((d, i) => h('option', { value: String(i) }, d)));
  const destination = h('select', { name: 'destination', required: true }, destinations.map((d) => h('option', { value: d.id }, `${d.name} (${d.type})`)));
  const include = h('input', { name: 'includeEvents', placeholder: '$pageview, signed_up', autocomplete: 'off' });
  const exclude = h('input', { name: 'excludeEvents', placeholder: '$feature_flag_called', autocomplete: 'off' });
  const paused = h('input', { name: 'paused', type: 'checkbox' });
  const filters = h('div', { class: 'filters' });
  let filterCount = 0;
  const addFilter = () => filters.append(filterRow(() => ++filterCount, (row) => row.remove()));

  const hourField = field('Offset hour', offsetHour, 'Hour of the local day (0–23) at which daily and weekly intervals start.');
  const dayField = field('Week starts on', offsetDay, 'Weekday at which weekly intervals start.');
  const eventFields = h('div', null,
    field('Only these events', include, 'Comma-separated event names; empty exports all events.'),
    field('Except these events', exclude, 'Comma-separated event names to leave out.'));
  const syncVisibility = () => {
    hourField.hidden = !['DAY', 'WEEK'].includes(interval.value);
    dayField.hidden = interval.value !== 'WEEK';
    eventFields.hidden = model.value !== 'EVENTS';
  };
  interval.addEventListener('change', syncVisibility);
  model.addEventListener('change', syncVisibility);
  syncVisibility();

  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create export');
  const form = h('form', {
    class: 'card form', 'aria-label': 'New export',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      msg.clear();
      submit.disabled = true;
      const input = {
        name: name.value.trim(),
        model: model.value,
        interval: interval.value,
        timezone: timezone.value.trim() || 'UTC',
        destinationId: destination.value,
        paused: paused.checked,
        ...(['DAY', 'WEEK'].includes(interval.value) ? { offsetHour: Number(offsetHour.value || 0) } : {}),
        ...(interval.value === 'WEEK' ? { offsetDay: Number(offsetDay.value) } : {}),
        ...(model.value === 'EVENTS' ? { includeEvents: list(include.value), excludeEvents: list(exclude.value) } : {}),
        filters: [...filters.querySelectorAll<HTMLElement>('.filter-row')].map((row) => {
          const [k, o, v] = row.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select');
          const value = filterValue(o.value, v.value);
          return { key: k.value.trim(), operator: o.value, ...(value === undefined ? {} : { value }) };
        }),
      };
      try {
        const { createBatchExport } = await gql<{ createBatchExport: BatchExport }>(Q.createBatchExport, { input });
        navigate(`/exports/${createBatchExport.id}`);
      } catch (err) {
        msg.error(err);
        const fieldName = err instanceof ApiError ? err.field?.replace(/^input\./, '') : undefined;
        const target = fieldName ? form.querySelector<HTMLElement>(`[name="${CSS.escape(fieldName)}"]`) : null;
        if (target) {
          target.setAttribute('aria-invalid', 'true');
          target.focus();
        }
      } finally {
        submit.disabled = false;
      }
    },
  },
  field('Name', name, undefined, { required: true }),
  h('div', { class: 'grid-2' },
    field('Model', model, 'Events are immutable; persons and sessions are merged by key at destinations that support it.'),
    field('Interval', interval, 'Each run exports one interval, once it has closed.')),
  h('div', { class: 'grid-2' },
    field('Time zone', timezone, 'IANA zone aligning hourly, daily and weekly intervals.'),
    h('div', null, hourField, dayField)),
  zoneList,
  field('Destination', destination, undefined, { required: true }),
  eventFields,
  h('fieldset', { class: 'filters-fieldset' }, h('legend', null, 'Property filters (all must hold)'), filters,
    h('button', { type: 'button', onclick: addFilter }, 'Add filter')),
  h('div', { class: 'field-checkbox' }, field('Create paused', paused)),
  h('div', { class: 'form-actions' }, submit));
  replace(body, form);
  name.focus();
}
