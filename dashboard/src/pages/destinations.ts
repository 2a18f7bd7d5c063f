/** Destinations: the list (with "test connection"), and the create/edit form rendered from the plugin's schema. */
import { gql } from '../api';
import { h, replace } from '../dom';
import { formatDate, utcText } from '../format';
import { nodes, Q, type ConnectionTestResult, type Destination, type DestinationType } from '../queries';
import { navigate } from '../router';
import { schemaForm, type SchemaForm } from '../components/schema-form';
import { actionButton, field, fieldIssues, formErrors, loading, notice, pageHeader } from '../components/ui';

let typesCache: Promise<DestinationType[]> | undefined;
export function destinationTypes(): Promise<DestinationType[]> {
  typesCache ??= gql<{ destinationTypes: { edges: { node: DestinationType }[] } }>(Q.destinationTypes).then((r) => nodes(r.destinationTypes)).catch((e) => {
    typesCache = undefined;
    throw e;
  });
  return typesCache;
}

const STEP_LABELS: Record<string, string> = {
  CONNECT: 'Connect', AUTHENTICATE: 'Authenticate', PERMISSIONS: 'Permissions', WRITE_PROBE: 'Write probe',
};

/** A connection test's outcome: one line, then each step it ran with ✓/✗ and what it found (the failing one last). */
function showTestResult(out: HTMLElement, r: ConnectionTestResult): void {
  out.className = `test-result ${r.ok ? 'ok' : 'bad'}`;
  replace(out,
    h('span', { class: 'test-summary' }, r.ok ? 'Connection OK' : `Failed${r.errorKind ? ` (${r.errorKind.toLowerCase()})` : ''}: ${r.message ?? 'no details'}`),
    r.steps.length ? h('ol', { class: 'test-steps', 'aria-label': 'Connection test steps' }, r.steps.map((s) => h('li', {
      class: `test-step ${s.ok ? 'ok' : 'bad'}`, 'data-step': s.name, 'data-ok': String(s.ok),
    },
    h('span', { class: 'mark', 'aria-label': s.ok ? 'passed' : 'failed' }, s.ok ? '✓' : '✗'),
    h('span', { class: 'step-name' }, STEP_LABELS[s.name] ?? s.name),
    h('span', { class: 'step-message' }, s.message)))) : null);
}

function testing(out: HTMLElement): void {
  out.className = 'test-result';
  out.textContent = 'Testing…';
}

function showTestError(out: HTMLElement, e: unknown): void {
  out.className = 'test-result bad';
  out.textContent = e instanceof Error ? e.message : String(e);
}

/** Runs testDestination on a saved destination and shows the outcome next to the button that asked. */
export function testButton(dest: Pick<Destination, 'id' | 'name'>, out: HTMLElement): HTMLButtonElement {
  return actionButton('Test connection', async () => {
    testing(out);
    const { testDestination: r } = await gql<{ testDestination: ConnectionTestResult }>(Q.testDestination, { id: dest.id });
    showTestResult(out, r);
  }, { label: `Test connection of ${dest.name}`, onError: (e) => showTestError(out, e) });
}

export async function destinationsPage(outlet: HTMLElement): Promise<void> {
  const msg = notice();
  outlet.append(pageHeader('Destinations', h('a', { href: '/destinations/new', class: 'button primary' }, 'New destination')), msg.el);
  const body = h('div', null, loading());
  outlet.append(body);
  try {
    const [destinations, types] = await Promise.all([gql<{ destinations: { edges: { node: Destination }[] } }>(Q.destinations).then((r) => nodes(r.destinations)), destinationTypes()]);
    const typeName = (id: string) => types.find((t) => t.id === id)?.displayName ?? id;
    if (!destinations.length) {
      replace(body, h('p', { class: 'empty' }, 'No destinations yet. ', h('a', { href: '/destinations/new' }, 'Create one'), ' to start exporting.'));
      return;
    }
    replace(body, h('ul', { class: 'cards', 'aria-label': 'Destinations' }, destinations.map((d) => {
      const result = h('span', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
      return h('li', { class: 'card row-card', 'data-destination': d.name },
        h('div', { class: 'row-main' },
          h('a', { href: `/destinations/${d.id}`, class: 'title' }, d.name),
          h('span', { class: 'muted' }, `${typeName(d.type)} · updated `, h('time', { datetime: d.updatedAt, title: utcText(d.updatedAt) }, formatDate(d.updatedAt)))),
        h('div', { class: 'actions' }, testButton(d, result), h('a', { href: `/destinations/${d.id}`, class: 'button', 'aria-label': `Edit ${d.name}` }, 'Edit')),
        result);
    })));
  } catch (e) {
    replace(body);
    msg.error(e);
  }
}

export async function destinationFormPage(outlet: HTMLElement, params: { id?: string }): Promise<void> {
  const editing = params.id !== undefined;
  const msg = notice();
  outlet.append(pageHeader(editing ? 'Edit destination' : 'New destination'), msg.el);
  const body = h('div', null, loading());
  outlet.append(body);
  let types: DestinationType[];
  let existing: Destination | undefined;
  try {
    types = await destinationTypes();
    if (editing) existing = (await gql<{ destination: Destination }>(Q.destination, { id: params.id })).destination;
  } catch (e) {
    replace(body);
    msg.error(e);
    return;
  }

  const name = h('input', { name: 'name', required: true, maxlength: 200, value: existing?.name ?? '', autocomplete: 'off' });
  const type = h('select', { name: 'type', disabled: editing, required: true },
    types.map((t) => h('option', { value: t.id, selected: t.id === (existing?.type ?? 'local-files') }, t.displayName)));
  const typeHelp = h('p', { class: 'muted type-description' });
  const settings = h('div');
  let form: SchemaForm;
  const renderSettings = () => {
    const t = types.find((x) => x.id === type.value)!;
    typeHelp.textContent = t.description ?? '';
    form = schemaForm(t.configSchema, existing?.config, editing ? 'edit' : 'create');
    replace(settings, form.el);
  };
  type.addEventListener('change', renderSettings);
  renderSettings();

  const nameErrors = formErrors('');
  const nameField = field('Name', name, undefined, { required: true });
  nameErrors.add('name', nameField, name);
  const testResult = h('div', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
  // Tests what the form holds now, saved or not; on an edit, empty or masked secrets keep their stored values.
  const testForm = actionButton('Test connection', async () => {
    msg.clear();
    const config = form.values();
    if (!config) {
      showTestError(testResult, 'Some settings need attention before a test: see the messages under them.');
      settings.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    testing(testResult);
    const { testDestinationConfig: r } = await gql<{ testDestinationConfig: ConnectionTestResult }>(Q.testDestinationConfig, {
      input: { type: type.value, config, ...(existing ? { destinationId: existing.id } : {}) },
    });
    showTestResult(testResult, r);
  }, {
    label: existing ? `Test connection of ${existing.name}` : 'Test connection before saving',
    onError: (e) => {
      form.errors.clear();
      const unplaced = fieldIssues(e).filter((i) => !(i.field && form.errors.show(i.field.replace(/^input\./, ''), i.message)));
      showTestError(testResult, unplaced.length ? unplaced.map((i) => i.message).join('\n') : 'Some settings need attention: see the messages under them.');
    },
  });
  const save = h('button', { type: 'submit', class: 'primary' }, editing ? 'Save changes' : 'Create destination');
  const el = h('form', {
    class: 'card form', 'aria-label': editing ? 'Edit destination' : 'New destination', novalidate: true,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      msg.clear();
      nameErrors.clear();
      // Every problem the form can see is shown at once, each under its field.
      if (!name.value.trim()) nameErrors.show('name', 'Name is required');
      const config = form.values();
      if (!name.value.trim() || !config) {
        msg.error('Some fields need attention: see the messages under them.');
        settings.closest('form')?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return;
      }
      save.disabled = true;
      try {
        if (existing) {
          const { updateDestination } = await gql<{ updateDestination: Destination }>(Q.updateDestination, { id: existing.id, name: name.value.trim(), config });
          existing = updateDestination;
          msg.ok('Saved.');
        } else {
          const { createDestination } = await gql<{ createDestination: Destination }>(Q.createDestination, { name: name.value.trim(), type: type.value, config });
          navigate(`/destinations/${createDestination.id}?created=1`, { replace: true });
        }
      } catch (err) {
        form.errors.clear();
        const unplaced = fieldIssues(err).filter((i) => {
          const path = i.field?.replace(/^input\./, '');
          return !(path?.startsWith('config') ? form.errors.show(path, i.message) : nameErrors.show(path, i.message));
        });
        msg.error(unplaced.length ? unplaced.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('\n') : 'Some fields need attention: see the messages under them.');
        el.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      } finally {
        save.disabled = false;
      }
    },
  },
  nameField,
  field('Type', type, editing ? 'The type of a destination cannot change.' : undefined),
  typeHelp,
  settings,
  h('div', { class: 'form-actions' },
    save,
    testForm,
    existing ? actionButton('Delete', async () => {
      if (!confirm(`Delete destination "${existing!.name}"?`)) return;
      await gql(Q.deleteDestination, { id: existing!.id });
      navigate('/destinations');
    }, { class: 'danger', label: `Delete destination ${existing.name}`, onError: (e) => msg.error(e) }) : null,
    testResult));
  replace(body, el);
  if (new URLSearchParams(location.search).has('created')) msg.ok('Destination created. Test its connection, then use it in an export.');
  if (!editing) name.focus();
}
