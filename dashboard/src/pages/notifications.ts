/**
 * Notification channels: where failures, auto-pauses, recoveries, slow runs and stale data are sent (a signed
 * webhook, a Slack incoming webhook, or email over SMTP), either for every export (team default) or for one export
 * (`/notifications?export=<id>`, linked from the export's page). Create, edit, delete, rotate the webhook's signing
 * secret (shown once, with a copy button), send a test message, and read recent deliveries with their errors.
 */
import { gql } from '../api';
import { h, replace, uid } from '../dom';
import { formatDate, plural, utcText } from '../format';
import { nodes, Q, type BatchExport } from '../queries';
import { actionButton, field, formErrors, loading, notice, statusBadge } from '../components/ui';

type ChannelKind = 'WEBHOOK' | 'SLACK' | 'EMAIL';

interface EmailSettings {
  smtpHost: string;
  smtpPort: number;
  smtpSecure: boolean;
  smtpUser: string | null;
  from: string;
  to: string[];
}

interface Channel {
  id: string;
  name: string;
  kind: ChannelKind;
  batchExportId: string | null;
  events: string[];
  url: string | null;
  email: EmailSettings | null;
  slowRunSeconds: number | null;
  staleIntervals: number | null;
  rateLimitSeconds: number;
  enabled: boolean;
  createdAt: string;
}

interface Delivery {
  id: string;
  channelId: string;
  batchExportId: string | null;
  event: string;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  attempts: number;
  lastError: string | null;
  suppressedCount: number;
  text: string;
  createdAt: string;
  deliveredAt: string | null;
}

// Kept here rather than in queries.ts: only this page speaks to the notification API.
const CHANNEL = `id name kind batchExportId events url email { smtpHost smtpPort smtpSecure smtpUser from to }
  slowRunSeconds staleIntervals rateLimitSeconds enabled createdAt`;
const DELIVERY = 'id channelId batchExportId event status attempts lastError suppressedCount text createdAt deliveredAt';
const NQ = {
  channels: `query ($exportId: ID) { notificationChannels(batchExportId: $exportId, first: 500) { edges { node { ${CHANNEL} } } } }`,
  deliveries: `query ($channelId: ID, $first: Int) { notificationDeliveries(channelId: $channelId, first: $first) { edges { node { ${DELIVERY} } } } }`,
  create: `mutation ($input: CreateNotificationChannelInput!) { createNotificationChannel(input: $input) { signingSecret channel { ${CHANNEL} } } }`,
  update: `mutation ($input: UpdateNotificationChannelInput!) { updateNotificationChannel(input: $input) { ${CHANNEL} } }`,
  remove: 'mutation ($id: ID!) { deleteNotificationChannel(id: $id) { id } }',
  rotate: `mutation ($id: ID!) { rotateNotificationChannelSecret(id: $id) { signingSecret channel { ${CHANNEL} } } }`,
  test: `mutation ($id: ID!) { sendTestNotification(id: $id) { ${DELIVERY} } }`,
};

const KINDS: { value: ChannelKind; label: string; help: string }[] = [
  { value: 'WEBHOOK', label: 'Webhook (signed JSON)', help: 'A JSON POST signed with HMAC-SHA256 in the X-Outport-Signature header; the signing secret is shown once, when the channel is created.' },
  { value: 'SLACK', label: 'Slack incoming webhook', help: 'A Slack incoming-webhook URL (or any Slack-compatible one). It is stored encrypted; only its host is shown afterwards.' },
  { value: 'EMAIL', label: 'Email (SMTP)', help: 'Sent through your SMTP server. The password is stored encrypted and never shown again.' },
];
const kindLabel = (k: string) => KINDS.find((x) => x.value === k)?.label ?? k;

const EVENTS: { value: string; label: string; help: string }[] = [
  { value: 'RUN_FAILED', label: 'Run failed', help: 'A run ended failed or timed out.' },
  { value: 'EXPORT_AUTO_PAUSED', label: 'Export auto-paused', help: 'Repeated failures paused the export.' },
  { value: 'EXPORT_RECOVERED', label: 'Export recovered', help: 'The first completed run after failures.' },
  { value: 'RUN_SLOW', label: 'Run slower than a threshold', help: 'A run still running, or finished, after more than the seconds below.' },
  { value: 'EXPORT_STALE', label: 'Data staler than N intervals', help: 'The last completed interval ended more than the number of intervals below ago.' },
];
const eventLabel = (e: string) => (e === 'TEST' ? 'Test' : EVENTS.find((x) => x.value === e)?.label ?? e);

const DEFAULT_EVENTS = ['RUN_FAILED', 'EXPORT_AUTO_PAUSED', 'EXPORT_RECOVERED'];

const STATUS_LABELS: Record<Delivery['status'], string> = { DELIVERED: 'delivered', FAILED: 'failed', PENDING: 'pending (retrying)' };

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

/** What a delivery's outcome reads as, next to the button that asked for it and in the deliveries table. */
function outcomeText(d: Delivery): string {
  if (d.status === 'DELIVERED') return `Delivered${d.deliveredAt ? ` at ${formatDate(d.deliveredAt)}` : ''}.`;
  if (d.status === 'FAILED') return `Failed: ${d.lastError ?? 'no details'}`;
  return `Not delivered yet (attempt ${d.attempts}${d.lastError ? `: ${d.lastError}` : ''}); it will be retried.`;
}

/** A whole number from a number input; undefined when empty, NaN when not a whole number. */
function wholeNumber(input: HTMLInputElement): number | undefined {
  const text = input.value.trim();
  if (!text) return undefined;
  const n = Number(text);
  return Number.isInteger(n) ? n : NaN;
}

export async function notificationsPage(outlet: HTMLElement): Promise<void> {
  const exportId = new URLSearchParams(location.search).get('export') ?? undefined;
  const msg = notice();
  const newButton = h('button', { type: 'button', class: 'primary' }, 'New channel');
  const crumbs = h('p', { class: 'crumbs' }, h('a', { href: '/settings' }, 'Settings'), ' / ');
  const title = h('h1', null, 'Notifications');
  const header = h('div', { class: 'page-header' }, h('div', null, crumbs, title), h('div', { class: 'actions' }, newButton));
  outlet.append(header, msg.el);
  const body = h('div', null, loading());
  outlet.append(body);

  let channels: Channel[];
  let exports: BatchExport[];
  try {
    [channels, exports] = await Promise.all([
      gql<{ notificationChannels: { edges: { node: Channel }[] } }>(NQ.channels, { exportId }).then((r) => nodes(r.notificationChannels)),
      gql<{ batchExports: { edges: { node: BatchExport }[] } }>(Q.batchExports).then((r) => r.batchExports.edges.map((e) => e.node)),
    ]);
  } catch (e) {
    replace(body);
    newButton.hidden = true;
    msg.error(e);
    return;
  }
  const scoped = exportId ? exports.find((x) => x.id === exportId) : undefined;
  const exportName = (id: string) => exports.find((x) => x.id === id)?.name ?? id;
  if (exportId) {
    replace(crumbs, h('a', { href: '/exports' }, 'Exports'), ' / ', h('a', { href: `/exports/${exportId}` }, scoped?.name ?? 'Export'), ' / ');
    title.textContent = `Notifications of ${scoped?.name ?? 'this export'}`;
  }

  // ---- signing secret, shown once ----
  const secretPanel = h('div', { class: 'created-token', 'aria-live': 'polite' });
  const showSecret = (channel: Channel, secret: string, rotated: boolean) => {
    const value = h('input', { name: 'signingSecret', readonly: true, value: secret, class: 'mono', spellcheck: 'false' });
    const copied = h('span', { class: 'muted small', role: 'status' });
    replace(secretPanel, h('div', { class: 'notice notice-ok', 'data-secret-for': channel.name },
      h('p', null, h('strong', null, rotated ? `New signing secret of "${channel.name}". ` : `Channel "${channel.name}" created. `),
        'Copy its signing secret now: it is shown only once. ',
        rotated ? 'The old secret no longer verifies. ' : '',
        'Verify each request: ', h('code', null, 'X-Outport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>'), '.'),
      field('Signing secret', value),
      h('div', { class: 'form-actions' },
        h('button', { type: 'button', onclick: async () => {
          value.select();
          try {
            await navigator.clipboard.writeText(value.value);
            copied.textContent = 'Copied.';
          } catch {
            copied.textContent = 'Select the text and copy it (the clipboard is not available here).';
          }
        } }, 'Copy signing secret'),
        h('button', { type: 'button', onclick: () => replace(secretPanel) }, 'Done, hide it'),
        copied)));
    value.focus();
    value.select();
  };

  // ---- channel list ----
  const list = h('div');
  const formSlot = h('div');
  const testResults = new Map<string, HTMLElement>();
  const scopeText = (c: Channel) => (c.batchExportId
    ? h('span', null, 'Export ', h('a', { href: `/exports/${c.batchExportId}` }, exportName(c.batchExportId)))
    : h('span', null, 'Team default: every export'));
  const targetText = (c: Channel) => {
    if (c.kind === 'EMAIL' && c.email) return `to ${c.email.to.join(', ')} via ${c.email.smtpHost}:${c.email.smtpPort}`;
    return c.url ?? '';
  };
  const eventsText = (c: Channel) => c.events.map((e) => {
    if (e === 'RUN_SLOW' && c.slowRunSeconds) return `run slower than ${duration(c.slowRunSeconds)}`;
    if (e === 'EXPORT_STALE' && c.staleIntervals) return `data staler than ${plural(c.staleIntervals, 'interval')}`;
    return eventLabel(e).toLowerCase();
  }).join(', ') || 'no events';

  const renderList = () => {
    if (!channels.length) {
      replace(list, h('p', { class: 'empty' }, exportId
        ? 'No channel applies to this export yet: neither a team default nor one of its own.'
        : 'No notification channels yet. Create one to hear about failed runs, auto-pauses, slow runs and stale data.'));
      return;
    }
    const groups: [string, Channel[]][] = [
      ['Team defaults (every export)', channels.filter((c) => !c.batchExportId)],
      [exportId ? 'This export only' : 'Per export', channels.filter((c) => c.batchExportId)],
    ];
    replace(list, groups.filter(([, cs]) => cs.length).map(([title, cs]) => {
      const titleId = uid('group');
      return h('section', { 'aria-labelledby': titleId },
        h('h2', { id: titleId }, title),
        h('ul', { class: 'cards', 'aria-labelledby': titleId }, cs.map((c) => {
          const result = testResults.get(c.id) ?? h('span', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
          testResults.set(c.id, result);
          return h('li', { class: 'card row-card channel', 'data-channel': c.name },
            h('div', { class: 'row-main' },
              h('span', { class: 'title' }, c.name, ' ', h('span', { class: 'tag' }, kindLabel(c.kind)), c.enabled ? null : h('span', { class: 'tag' }, 'disabled')),
              h('span', { class: 'muted' }, scopeText(c)),
              h('span', { class: 'channel-target' }, targetText(c)),
              h('span', { class: 'muted small' }, `Events: ${eventsText(c)} · at most one message per ${duration(c.rateLimitSeconds)} per export and event`)),
            h('div', { class: 'actions' },
              actionButton('Send test notification', async () => {
                result.className = 'test-result';
                result.textContent = 'Sending…';
                const { sendTestNotification: d } = await gql<{ sendTestNotification: Delivery }>(NQ.test, { id: c.id });
                result.className = `test-result ${d.status === 'DELIVERED' ? 'ok' : 'bad'}`;
                result.textContent = `Test notification: ${outcomeText(d)}`;
                void deliveries.load();
              }, { label: `Send test notification to ${c.name}`, onError: (e) => {
                result.className = 'test-result bad';
                result.textContent = e instanceof Error ? e.message : String(e);
              } }),
              h('button', { type: 'button', 'aria-label': `Edit ${c.name}`, onclick: () => openForm(c) }, 'Edit'),
              c.kind === 'WEBHOOK' ? actionButton('Rotate secret', async () => {
                if (!confirm(`Give "${c.name}" a new signing secret? Receivers must switch to it: the old one stops working at once.`)) return;
                const { rotateNotificationChannelSecret: r } = await gql<{ rotateNotificationChannelSecret: { signingSecret: string; channel: Channel } }>(NQ.rotate, { id: c.id });
                channels = channels.map((x) => (x.id === c.id ? r.channel : x));
                renderList();
                showSecret(r.channel, r.signingSecret, true);
              }, { label: `Rotate signing secret of ${c.name}`, onError: msg.error }) : null,
              actionButton('Delete', async () => {
                if (!confirm(`Delete the channel "${c.name}"? Nothing more is sent to it.`)) return;
                await gql(NQ.remove, { id: c.id });
                channels = channels.filter((x) => x.id !== c.id);
                testResults.delete(c.id);
                renderList();
                msg.ok(`Deleted ${c.name}.`);
              }, { class: 'danger', label: `Delete ${c.name}`, onError: msg.error })),
            result);
        })));
    }));
  };

  // ---- create / edit form ----
  const openForm = (existing?: Channel) => {
    msg.clear();
    const form = channelForm({
      existing,
      exports,
      defaultExportId: exportId,
      onSaved: (saved, secret) => {
        const known = channels.some((c) => c.id === saved.id);
        const appliesHere = !exportId || !saved.batchExportId || saved.batchExportId === exportId;
        if (known) channels = channels.map((c) => (c.id === saved.id ? saved : c));
        else if (appliesHere) channels = [...channels, saved];
        replace(formSlot);
        renderList();
        newButton.hidden = false;
        if (secret) showSecret(saved, secret, false);
        else if (!appliesHere) msg.ok(`Channel "${saved.name}" created for export "${exportName(saved.batchExportId!)}"; it is listed on that export's notifications.`);
        else msg.ok(existing ? `Saved ${saved.name}.` : `Channel "${saved.name}" created. Send a test notification to check it.`);
        void deliveries.load();
      },
      onCancel: () => {
        replace(formSlot);
        newButton.hidden = false;
        newButton.focus();
      },
    });
    replace(formSlot, form);
    newButton.hidden = true;
    form.querySelector<HTMLElement>('input[name="name"]')?.focus();
    form.scrollIntoView({ block: 'start' });
  };
  newButton.addEventListener('click', () => openForm());

  // ---- recent deliveries ----
  const deliveries = deliveriesSection(() => channels, exportId);

  renderList();
  replace(body, formSlot, secretPanel, list, deliveries.el);
  void deliveries.load();
}

interface ChannelFormOptions {
  existing?: Channel;
  exports: BatchExport[];
  defaultExportId?: string;
  onSaved(channel: Channel, signingSecret: string | null): void;
  onCancel(): void;
}

function channelForm(opts: ChannelFormOptions): HTMLFormElement {
  const { existing } = opts;
  const editing = !!existing;
  const formMsg = notice();
  const errors = formErrors('input');

  const name = h('input', { name: 'name', maxlength: 200, autocomplete: 'off', value: existing?.name ?? '', placeholder: 'e.g. On-call webhook' });
  const kind = h('select', { name: 'kind', disabled: editing },
    KINDS.map((k) => h('option', { value: k.value, selected: k.value === (existing?.kind ?? 'WEBHOOK') }, k.label)));
  const kindHelp = h('span');
  const scope = h('select', { name: 'batchExportId', disabled: editing },
    h('option', { value: '', selected: !(existing?.batchExportId ?? opts.defaultExportId) }, 'Team default: every export'),
    opts.exports.map((x) => h('option', { value: x.id, selected: x.id === (existing ? existing.batchExportId : opts.defaultExportId) }, `Only export "${x.name}"`)),
    // An export beyond the first page of exports still shows as the channel's own.
    existing?.batchExportId && !opts.exports.some((x) => x.id === existing.batchExportId)
      ? h('option', { value: existing.batchExportId, selected: true }, `Only export ${existing.batchExportId}`) : null);
  const nameField = field('Name', name, undefined, { required: true });
  const kindField = field('Kind', kind, [kindHelp, document.createTextNode(editing ? ' The kind of a channel cannot change: create another channel.' : '')]);
  const scopeField = field('Applies to', scope, editing ? 'A channel cannot move to another export: create another channel.' : 'A team default hears of every export; an export\'s own channel only of that export.');
  errors.add('name', nameField, name);
  errors.add('kind', kindField, kind);
  errors.add('batchExportId', scopeField, scope);

  // WEBHOOK and SLACK
  const url = h('input', { name: 'url', type: 'url', autocomplete: 'off', spellcheck: 'false', inputmode: 'url', value: existing?.kind === 'WEBHOOK' ? existing.url ?? '' : '' });
  const urlHelp = h('span');
  const urlField = field('URL', url, [urlHelp], { required: !editing });
  errors.add('url', urlField, url);

  // EMAIL
  const e = existing?.email;
  const smtpHost = h('input', { name: 'smtpHost', autocomplete: 'off', spellcheck: 'false', value: e?.smtpHost ?? '', placeholder: 'smtp.example.com' });
  const smtpPort = h('input', { name: 'smtpPort', type: 'number', min: 1, max: 65535, step: 1, inputmode: 'numeric', value: String(e?.smtpPort ?? 587) });
  const smtpSecure = h('input', { name: 'smtpSecure', type: 'checkbox', checked: e?.smtpSecure ?? false });
  const smtpUser = h('input', { name: 'smtpUser', autocomplete: 'off', spellcheck: 'false', value: e?.smtpUser ?? '' });
  const smtpPassword = h('input', { name: 'smtpPassword', type: 'password', autocomplete: 'new-password', placeholder: editing ? 'Unchanged (stored encrypted)' : '' });
  const from = h('input', { name: 'from', autocomplete: 'off', value: e?.from ?? '', placeholder: 'Outport <outport@example.com>' });
  const to = h('textarea', { name: 'to', rows: 2, spellcheck: 'false', value: e?.to.join('\n') ?? '' });
  const emailFields: [string, string, HTMLElement, string | undefined, boolean?][] = [
    ['email.smtpHost', 'SMTP host', smtpHost, undefined, true],
    ['email.smtpPort', 'SMTP port', smtpPort, '587 (STARTTLS when offered) or 465 (TLS from the first byte).', true],
    ['email.smtpUser', 'SMTP user', smtpUser, 'Empty: send without signing in.'],
    ['email.smtpPassword', 'SMTP password', smtpPassword, editing ? 'Leave empty to keep the stored password.' : 'Stored encrypted, never shown again.'],
    ['email.from', 'From', from, 'The sender address.', true],
    ['email.to', 'To', to, 'Recipients, one per line or separated by commas.', true],
  ];
  const emailWrappers = emailFields.map(([path, label, control, help, required]) => {
    const w = field(label, control, help, { required });
    errors.add(path, w, control);
    return w;
  });
  const secureField = field('TLS from the first byte (port 465)', smtpSecure, 'Off: STARTTLS is used when the server offers it.');
  secureField.classList.add('field-checkbox');
  errors.add('email.smtpSecure', secureField, smtpSecure);
  const emailSet = h('fieldset', { class: 'email-settings' }, h('legend', null, 'SMTP settings'),
    h('div', { class: 'grid-2' }, emailWrappers[0], emailWrappers[1]), secureField,
    h('div', { class: 'grid-2' }, emailWrappers[2], emailWrappers[3]), emailWrappers[4], emailWrappers[5]);
  errors.add('email', emailSet, smtpHost);

  // events and thresholds
  const chosen = new Set(existing?.events ?? DEFAULT_EVENTS);
  const eventBoxes = EVENTS.map((ev) => h('input', { type: 'checkbox', name: 'events', value: ev.value, checked: chosen.has(ev.value) }));
  const slowRun = h('input', { name: 'slowRunSeconds', type: 'number', min: 1, step: 1, inputmode: 'numeric', value: existing?.slowRunSeconds != null ? String(existing.slowRunSeconds) : '' });
  const stale = h('input', { name: 'staleIntervals', type: 'number', min: 1, step: 1, inputmode: 'numeric', value: existing?.staleIntervals != null ? String(existing.staleIntervals) : '' });
  const slowField = field('Slow after (seconds)', slowRun, 'Needed for "Run slower than a threshold".');
  const staleField = field('Stale after (intervals)', stale, 'Needed for "Data staler than N intervals", e.g. 3 for an hourly export three hours behind.');
  errors.add('slowRunSeconds', slowField, slowRun);
  errors.add('staleIntervals', staleField, stale);
  const eventsLegendId = uid('legend');
  const eventsSet = h('fieldset', { class: 'events', 'aria-labelledby': eventsLegendId },
    h('legend', { id: eventsLegendId }, 'Events'),
    EVENTS.map((ev, i) => {
      const w = field(ev.label, eventBoxes[i], ev.help);
      w.classList.add('field-checkbox');
      if (ev.value === 'RUN_SLOW') return [w, h('div', { class: 'threshold' }, slowField)];
      if (ev.value === 'EXPORT_STALE') return [w, h('div', { class: 'threshold' }, staleField)];
      return w;
    }));
  // The events error is shown at the end of the fieldset; its first checkbox gets aria-invalid so focus lands inside.
  errors.add('events', eventsSet, eventBoxes[0]);

  const rateLimit = h('input', { name: 'rateLimitSeconds', type: 'number', min: 1, max: 86400, step: 1, inputmode: 'numeric', value: String(existing?.rateLimitSeconds ?? 900) });
  const rateField = field('Rate limit (seconds)', rateLimit, 'At most one message per export and event in this window; the rest of the window is sent as one summary. 900 = 15 minutes.');
  errors.add('rateLimitSeconds', rateField, rateLimit);
  const enabled = h('input', { name: 'enabled', type: 'checkbox', checked: existing?.enabled ?? true });
  const enabledField = field('Enabled', enabled, 'A disabled channel sends nothing, but still takes a test notification.');
  enabledField.classList.add('field-checkbox');

  const syncKind = () => {
    const k = kind.value as ChannelKind;
    kindHelp.textContent = KINDS.find((x) => x.value === k)!.help;
    urlField.hidden = k === 'EMAIL';
    emailSet.hidden = k !== 'EMAIL';
    if (k === 'SLACK') {
      url.placeholder = editing ? `Unchanged (${existing?.url ?? 'stored encrypted'}): paste a new URL to replace it` : 'https://hooks.slack.com/services/…';
      urlHelp.textContent = 'The Slack incoming-webhook URL. It is a secret: stored encrypted, only its host is shown.';
    } else {
      url.placeholder = 'https://example.com/outport-hook';
      urlHelp.textContent = 'Receives a signed JSON POST for each event (http or https).';
    }
  };
  kind.addEventListener('change', syncKind);
  syncKind();

  const save = h('button', { type: 'submit', class: 'primary' }, editing ? 'Save channel' : 'Create channel');
  const titleId = uid('form-title');
  const form: HTMLFormElement = h('form', {
    class: 'card form channel-form', 'aria-labelledby': titleId, novalidate: true,
    onsubmit: async (ev: Event) => {
      ev.preventDefault();
      formMsg.clear();
      errors.clear();
      const k = kind.value as ChannelKind;
      const input: Record<string, unknown> = {
        name: name.value.trim(),
        events: eventBoxes.filter((b) => b.checked).map((b) => b.value),
        enabled: enabled.checked,
      };
      if (!editing) {
        input.kind = k;
        if (scope.value) input.batchExportId = scope.value;
      }
      // Only problems the API cannot name (a number input holding text) are checked here; the rest is the API's word.
      const numbers: [string, HTMLInputElement, string][] = [['slowRunSeconds', slowRun, 'Slow after'], ['staleIntervals', stale, 'Stale after'], ['rateLimitSeconds', rateLimit, 'Rate limit']];
      let bad = false;
      for (const [key, control, label] of numbers) {
        const n = wholeNumber(control);
        if (Number.isNaN(n)) {
          errors.show(key, `${label} must be a whole number`);
          bad = true;
        } else if (n !== undefined) input[key] = n;
        else if (key !== 'rateLimitSeconds') input[key] = null;
      }
      if (k === 'EMAIL') {
        const port = wholeNumber(smtpPort);
        if (port === undefined || Number.isNaN(port)) {
          errors.show('email.smtpPort', 'SMTP port must be a whole number, e.g. 587');
          bad = true;
        }
        input.email = {
          smtpHost: smtpHost.value.trim(),
          smtpPort: port,
          smtpSecure: smtpSecure.checked,
          smtpUser: smtpUser.value.trim() || null,
          ...(smtpPassword.value || !editing ? { smtpPassword: smtpPassword.value || null } : {}),
          from: from.value.trim(),
          to: to.value.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean),
        };
      } else if (url.value.trim() || !editing) {
        input.url = url.value.trim();
      }
      if (bad) {
        formMsg.error('Some fields need attention: see the messages under them.');
        form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
        return;
      }
      save.disabled = true;
      try {
        if (existing) {
          const { updateNotificationChannel } = await gql<{ updateNotificationChannel: Channel }>(NQ.update, { input: { id: existing.id, ...input } });
          opts.onSaved(updateNotificationChannel, null);
        } else {
          const { createNotificationChannel: r } = await gql<{ createNotificationChannel: { signingSecret: string | null; channel: Channel } }>(NQ.create, { input });
          opts.onSaved(r.channel, r.signingSecret);
        }
      } catch (err) {
        const left = errors.showError(err);
        formMsg.error(left.length ? left.map((i) => i.message).join('\n') : 'Some fields need attention: see the messages under them.');
      } finally {
        save.disabled = false;
      }
    },
  },
  h('h2', { id: titleId }, editing ? `Edit ${existing!.name}` : 'New channel'),
  nameField,
  h('div', { class: 'grid-2' }, kindField, scopeField),
  urlField,
  emailSet,
  eventsSet,
  h('div', { class: 'grid-2' }, rateField, enabledField),
  formMsg.el,
  h('div', { class: 'form-actions' }, save, h('button', { type: 'button', onclick: () => opts.onCancel() }, 'Cancel')));
  return form;
}

/** The newest deliveries (of every channel shown, or of one), with status, attempts and the last error. */
function deliveriesSection(channels: () => Channel[], exportId: string | undefined) {
  const status = h('p', { class: 'muted small', role: 'status' });
  const table = h('div', { class: 'table-wrap' });
  const which = h('select', { name: 'deliveriesChannel' });
  const refresh = h('button', { type: 'button' }, 'Refresh');
  const titleId = uid('deliveries-title');
  const el = h('section', { class: 'card', 'aria-labelledby': titleId },
    h('div', { class: 'section-header' }, h('h2', { id: titleId }, 'Recent deliveries'), refresh),
    h('div', { class: 'grid-2' }, field('Channel', which)),
    status, table);

  const syncChoices = () => {
    const current = which.value;
    replace(which, h('option', { value: '' }, 'All channels shown above'),
      channels().map((c) => h('option', { value: c.id, selected: c.id === current }, c.name)));
  };

  let generation = 0;
  const load = async () => {
    const mine = ++generation;
    syncChoices();
    status.textContent = 'Loading…';
    try {
      const notificationDeliveries = nodes((await gql<{ notificationDeliveries: { edges: { node: Delivery }[] } }>(NQ.deliveries, { channelId: which.value || null, first: 50 })).notificationDeliveries);
      if (mine !== generation) return;
      const shown = new Map(channels().map((c) => [c.id, c]));
      // On an export's page: its own messages and tests of the channels listed, not other exports' messages.
      const rows = notificationDeliveries.filter((d) => shown.has(d.channelId) && (!exportId || d.batchExportId === exportId || d.batchExportId === null));
      status.textContent = rows.length ? `The newest ${plural(rows.length, 'message')}.` : 'Nothing sent yet.';
      replace(table, rows.length ? h('table', { class: 'runs deliveries', 'aria-labelledby': titleId },
        h('thead', null, h('tr', null, ['Created', 'Channel', 'Event', 'Status', 'Attempts', 'Message'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, rows.map((d) => h('tr', { 'data-delivery': d.id, 'data-status': d.status, 'data-channel': shown.get(d.channelId)?.name ?? d.channelId },
          h('td', { 'data-label': 'Created' }, h('time', { datetime: d.createdAt, title: utcText(d.createdAt) }, formatDate(d.createdAt))),
          h('td', { 'data-label': 'Channel' }, shown.get(d.channelId)?.name ?? d.channelId),
          h('td', { 'data-label': 'Event' }, eventLabel(d.event), d.suppressedCount ? h('span', { class: 'trigger' }, `+${plural(d.suppressedCount, 'more event')} held back`) : null),
          h('td', { 'data-label': 'Status' }, statusBadge(d.status, STATUS_LABELS[d.status] ?? d.status.toLowerCase())),
          h('td', { 'data-label': 'Attempts' }, String(d.attempts)),
          h('td', { 'data-label': 'Message', class: 'details' },
            h('span', { class: 'block' }, d.text),
            d.lastError ? h('span', { class: 'error-text' }, `Error: ${d.lastError}`) : null))))) : null);
    } catch (e) {
      if (mine !== generation) return;
      status.textContent = e instanceof Error ? e.message : String(e);
    }
  };
  which.addEventListener('change', () => void load());
  refresh.addEventListener('click', () => void load());
  return { el, load };
}
