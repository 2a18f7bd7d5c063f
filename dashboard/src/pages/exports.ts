/** The exports list: health at a glance (active, paused, failing), pause/unpause, delete. */
import { gql } from '../api';
import { h, replace } from '../dom';
import { INTERVAL_LABELS, formatDate, utcText } from '../format';
import { exportHealth, Q, type BatchExport } from '../queries';
import { actionButton, field, loading, messageOf, notice, pageHeader, statusBadge } from '../components/ui';

/** `health` defaults to what the export's latestRuns say; the export page passes one computed from live runs. */
export function healthBadge(e: BatchExport, health = exportHealth(e)): HTMLElement {
  const text = health === 'paused' && e.pausedReason ? 'paused (auto)' : health;
  const badge = statusBadge(health, text);
  if (e.pausedReason) badge.title = e.pausedReason;
  return badge;
}

/**
 * Asks how to unpause: resume at the interval in progress now, or also backfill the intervals that closed while
 * the export was paused (`unpauseBatchExport(backfillPausedGap: true)`).
 */
function openUnpauseDialog(e: BatchExport, done: (e: BatchExport) => void): void {
  const gap = h('input', { type: 'checkbox', name: 'backfillPausedGap' });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const confirmBtn = h('button', { type: 'submit', class: 'primary' }, 'Unpause');
  const since = e.pausedAt ?? e.scheduledUntil;
  const dialog: HTMLDialogElement = h('dialog', { class: 'dialog', 'aria-labelledby': 'unpause-title' },
    h('form', {
      method: 'dialog',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        confirmBtn.disabled = true;
        try {
          const r = await gql<{ unpauseBatchExport: BatchExport }>(Q.unpauseBatchExport, { id: e.id, gap: gap.checked });
          dialog.close();
          done(r.unpauseBatchExport);
        } catch (err) {
          error.textContent = messageOf(err);
          error.hidden = false;
          confirmBtn.disabled = false;
        }
      },
    },
    h('h2', { id: 'unpause-title' }, `Unpause ${e.name}`),
    h('p', { class: 'muted' }, 'Runs resume at the interval in progress now.',
      since ? [' Paused since ', h('time', { datetime: since, title: utcText(since) }, formatDate(since, e.timezone)), '.'] : null),
    h('div', { class: 'field-checkbox' }, field('Also backfill the paused gap', gap, 'Export the intervals that closed while the export was paused; otherwise they are skipped (and logged).')),
    error,
    h('div', { class: 'form-actions' }, confirmBtn, h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'))));
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

/** Pause or unpause; `done` gets the updated export. */
export function pauseButton(e: BatchExport, done: (e: BatchExport) => void, onError: (err: unknown) => void): HTMLButtonElement {
  return e.paused
    ? h('button', { type: 'button', 'aria-label': `Unpause ${e.name}`, onclick: () => openUnpauseDialog(e, done) }, 'Unpause…')
    : actionButton('Pause', async () => {
      const r = await gql<{ pauseBatchExport: BatchExport }>(Q.pauseBatchExport, { id: e.id });
      done(r.pauseBatchExport);
    }, { label: `Pause ${e.name}`, onError });
}

export function deleteButton(e: BatchExport, done: () => void, onError: (err: unknown) => void): HTMLButtonElement {
  return actionButton('Delete', async () => {
    if (!confirm(`Delete export "${e.name}"? Its queued runs and backfills are cancelled.`)) return;
    await gql(Q.deleteBatchExport, { id: e.id });
    done();
  }, { class: 'danger', label: `Delete ${e.name}`, onError });
}

export async function exportsPage(outlet: HTMLElement): Promise<void> {
  const msg = notice();
  outlet.append(pageHeader('Exports', h('a', { href: '/exports/new', class: 'button primary' }, 'New export')), msg.el);
  const body = h('div', null, loading());
  outlet.append(body);
  let exports: BatchExport[];
  try {
    exports = (await gql<{ batchExports: { edges: { node: BatchExport }[] } }>(Q.batchExports)).batchExports.edges.map((e) => e.node);
  } catch (e) {
    replace(body);
    msg.error(e);
    return;
  }
  const render = () => {
    if (!exports.length) {
      replace(body, h('p', { class: 'empty' }, 'No exports yet. ', h('a', { href: '/exports/new' }, 'Create one'), ' (you need a ', h('a', { href: '/destinations/new' }, 'destination'), ' first).'));
      return;
    }
    replace(body, h('ul', { class: 'cards', 'aria-label': 'Exports' }, exports.map((e) => h('li', { class: 'card row-card', 'data-export': e.name },
      h('div', { class: 'row-main' },
        h('a', { href: `/exports/${e.id}`, class: 'title' }, e.name),
        h('span', { class: 'muted' }, `${e.model.toLowerCase()} · ${INTERVAL_LABELS[e.interval] ?? e.interval} · ${e.timezone} → ${e.destination.name}`),
        h('span', { class: 'muted' }, e.scheduledUntil ? 'scheduled until ' : 'created ',
          h('time', { datetime: e.scheduledUntil ?? e.createdAt, title: utcText(e.scheduledUntil ?? e.createdAt) }, formatDate(e.scheduledUntil ?? e.createdAt, e.timezone)))),
      healthBadge(e),
      h('div', { class: 'actions' },
        h('a', { href: `/exports/${e.id}/edit`, class: 'button', 'aria-label': `Edit ${e.name}` }, 'Edit'),
        pauseButton(e, (u) => {
          exports = exports.map((x) => (x.id === u.id ? u : x));
          render();
        }, msg.error),
        deleteButton(e, () => {
          exports = exports.filter((x) => x.id !== e.id);
          msg.ok(`Deleted ${e.name}.`);
          render();
        }, msg.error))))));
  };
  render();
}
