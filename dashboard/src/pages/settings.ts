/**
 * Team settings (webhook, concurrent backfills) and the team's API tokens: create one (shown once, with a copy
 * button), see when each was last used, revoke. The team's name is shown but not editable: updateTeam takes no name.
 */
import { gql } from '../api';
import { h, replace } from '../dom';
import { formatDate, utcText } from '../format';
import { nodes, Q, type ApiToken, type Team } from '../queries';
import { actionButton, field, formErrors, loading, notice, pageHeader } from '../components/ui';

const when = (iso: string | null) => (iso ? h('time', { datetime: iso, title: utcText(iso) }, formatDate(iso)) : 'never');

export async function settingsPage(outlet: HTMLElement): Promise<void> {
  const msg = notice();
  outlet.append(pageHeader('Settings'), msg.el);
  const body = h('div', null, loading());
  outlet.append(body);
  let team: Team;
  let tokens: ApiToken[];
  try {
    [team, tokens] = await Promise.all([
      gql<{ team: Team }>(Q.teamSettings).then((r) => r.team),
      gql<{ apiTokens: { edges: { node: ApiToken }[] } }>(Q.apiTokens).then((r) => nodes(r.apiTokens)),
    ]);
  } catch (e) {
    replace(body);
    msg.error(e);
    return;
  }

  // ---- team ----
  const teamMsg = notice();
  const teamErrors = formErrors('input');
  const webhook = h('input', { name: 'webhookUrl', type: 'url', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://hooks.slack.com/services/…', value: team.webhookUrl ?? '' });
  const maxBackfills = h('input', { name: 'maxConcurrentBackfills', type: 'number', min: 1, step: 1, inputmode: 'numeric', value: String(team.maxConcurrentBackfills) });
  const webhookField = field('Webhook URL', webhook, 'Failures and auto-pauses are POSTed here as JSON with a Slack-compatible text. Empty: no webhook.');
  const maxField = field('Backfills at once', maxBackfills, 'How many backfills may be starting or running at the same time.');
  teamErrors.add('webhookUrl', webhookField, webhook);
  teamErrors.add('maxConcurrentBackfills', maxField, maxBackfills);
  const saveTeam = h('button', { type: 'submit', class: 'primary' }, 'Save team settings');
  const teamForm = h('form', {
    class: 'card form', 'aria-labelledby': 'team-title', novalidate: true,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      teamMsg.clear();
      teamErrors.clear();
      const max = Number(maxBackfills.value);
      if (!Number.isInteger(max)) {
        teamErrors.show('maxConcurrentBackfills', 'Backfills at once must be a whole number');
        maxBackfills.focus();
        return;
      }
      saveTeam.disabled = true;
      try {
        team = (await gql<{ updateTeam: Team }>(Q.updateTeam, { webhookUrl: webhook.value.trim(), max })).updateTeam;
        webhook.value = team.webhookUrl ?? '';
        maxBackfills.value = String(team.maxConcurrentBackfills);
        teamMsg.ok('Team settings saved.');
      } catch (err) {
        const left = teamErrors.showError(err);
        if (left.length) teamMsg.error(left.map((i) => i.message).join('\n'));
      } finally {
        saveTeam.disabled = false;
      }
    },
  },
  h('h2', { id: 'team-title' }, 'Team'),
  h('p', null, h('span', { class: 'muted' }, 'Name: '), h('strong', { 'data-team-name': '' }, team.name)),
  webhookField, maxField, teamMsg.el,
  h('div', { class: 'form-actions' }, saveTeam));

  // ---- tokens ----
  const tokensMsg = notice();
  const tokenErrors = formErrors('input');
  const list = h('div', { class: 'table-wrap' });
  const tokenName = h('input', { name: 'tokenName', autocomplete: 'off', maxlength: 200, placeholder: 'e.g. CI pipeline' });
  const writeScope = h('input', { name: 'write', type: 'checkbox', checked: true });
  const nameField = field('Token name', tokenName, undefined, { required: true });
  tokenErrors.add('name', nameField, tokenName);
  const created = h('div', { class: 'created-token', 'aria-live': 'polite' });

  const renderTokens = () => {
    replace(list, h('table', { class: 'runs tokens', 'aria-labelledby': 'tokens-title' },
      h('thead', null, h('tr', null, ['Name', 'Token', 'Scopes', 'Created', 'Last used', 'State', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, tokens.map((t) => h('tr', { 'data-token': t.name, 'data-revoked': t.revokedAt ? 'true' : 'false' },
        h('td', { 'data-label': 'Name' }, t.name),
        h('td', { 'data-label': 'Token' }, h('code', null, `${t.displayPrefix}…`)),
        h('td', { 'data-label': 'Scopes' }, t.scopes.map((s) => s.toLowerCase()).join(', ')),
        h('td', { 'data-label': 'Created' }, when(t.createdAt)),
        h('td', { 'data-label': 'Last used' }, when(t.lastUsedAt)),
        h('td', { 'data-label': 'State' }, t.revokedAt ? ['revoked ', when(t.revokedAt)] : 'active'),
        h('td', { 'data-label': 'Actions', class: 'run-actions' }, t.revokedAt ? null : actionButton('Revoke', async () => {
          if (!confirm(`Revoke the token "${t.name}"? Anything using it stops working at once.`)) return;
          const { revokeApiToken } = await gql<{ revokeApiToken: ApiToken }>(Q.revokeApiToken, { id: t.id });
          tokens = tokens.map((x) => (x.id === t.id ? revokeApiToken : x));
          renderTokens();
          tokensMsg.ok(`Revoked ${t.name}.`);
        }, { class: 'danger', label: `Revoke token ${t.name}`, onError: (e) => tokensMsg.error(e) })))))));
  };

  const createBtn = h('button', { type: 'submit', class: 'primary' }, 'Create token');
  const tokenForm = h('form', {
    class: 'token-form', 'aria-label': 'New API token', novalidate: true,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      tokensMsg.clear();
      tokenErrors.clear();
      if (!tokenName.value.trim()) {
        tokenErrors.show('name', 'Token name is required');
        tokenName.focus();
        return;
      }
      createBtn.disabled = true;
      try {
        const { createApiToken } = await gql<{ createApiToken: { token: string; apiToken: ApiToken } }>(Q.createApiToken, {
          name: tokenName.value.trim(), scopes: writeScope.checked ? ['READ', 'WRITE'] : ['READ'],
        });
        tokens = [createApiToken.apiToken, ...tokens];
        renderTokens();
        tokenName.value = '';
        const value = h('input', { name: 'newToken', readonly: true, value: createApiToken.token, class: 'mono', spellcheck: 'false' });
        const copied = h('span', { class: 'muted small', role: 'status' });
        replace(created, h('div', { class: 'notice notice-ok' },
          h('p', null, h('strong', null, `Token "${createApiToken.apiToken.name}" created. `), 'Copy it now: it is shown only once and stored only as a hash.'),
          field('New token', value),
          h('div', { class: 'form-actions' },
            h('button', { type: 'button', onclick: async () => {
              value.select();
              try {
                await navigator.clipboard.writeText(value.value);
                copied.textContent = 'Copied.';
              } catch {
                copied.textContent = 'Select the text and copy it (the clipboard is not available here).';
              }
            } }, 'Copy token'),
            h('button', { type: 'button', onclick: () => replace(created) }, 'Done, hide it'),
            copied)));
        value.focus();
        value.select();
      } catch (err) {
        const left = tokenErrors.showError(err);
        if (left.length) tokensMsg.error(left.map((i) => i.message).join('\n'));
      } finally {
        createBtn.disabled = false;
      }
    },
  },
  h('div', { class: 'grid-2' }, nameField, h('div', { class: 'field-checkbox' }, field('Can change things (write scope)', writeScope, 'Without it the token can only read.'))),
  h('div', { class: 'form-actions' }, createBtn));

  renderTokens();
  replace(body,
    teamForm,
    h('section', { class: 'card', 'aria-labelledby': 'notifications-title' },
      h('h2', { id: 'notifications-title' }, 'Notifications'),
      h('p', { class: 'muted' }, 'Signed webhooks, Slack and email for failed runs, auto-pauses, recoveries, slow runs and stale data, for every export or one.'),
      h('a', { href: '/notifications', class: 'button' }, 'Notification channels')),
    h('section', { class: 'card', 'aria-labelledby': 'tokens-title' },
      h('h2', { id: 'tokens-title' }, 'API tokens'),
      h('p', { class: 'muted' }, 'Tokens of this team, revoked ones included. A token is shown once, when it is created.'),
      tokenForm, created, tokensMsg.el, list));
}
