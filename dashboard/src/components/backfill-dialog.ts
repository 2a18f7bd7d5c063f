/**
 * The backfill dialog: pick [start, end) in UTC, see the estimate (runs, rows, bytes, time) for exactly those
 * values, then start. "Start" stays disabled until the estimate shown matches the inputs.
 */
import { gql } from '../api';
import { h, replace } from '../dom';
import { formatBytes, formatCount, formatDuration, isoToLocalInput, localInputToIso } from '../format';
import { Q, type Backfill, type Estimate } from '../queries';
import { field, messageOf } from './ui';

export function openBackfillDialog(exportId: string, exportName: string, onCreated: (b: Backfill) => void): void {
  const now = new Date();
  now.setUTCMinutes(0, 0, 0);
  const start = h('input', { type: 'datetime-local', name: 'startAt', required: true, step: 60, value: isoToLocalInput(new Date(now.getTime() - 24 * 3600_000)) });
  const end = h('input', { type: 'datetime-local', name: 'endAt', required: true, step: 60, value: isoToLocalInput(now) });
  const estimateEl = h('div', { class: 'estimate', role: 'status', 'aria-live': 'polite' });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const startBtn = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Start backfill');
  let estimatedFor = '';
  let seq = 0;

  const key = () => `${start.value}|${end.value}`;
  const estimate = async () => {
    const mine = ++seq;
    startBtn.disabled = true;
    error.hidden = true;
    const startAt = localInputToIso(start.value);
    const endAt = localInputToIso(end.value);
    if (!startAt || !endAt) return replace(estimateEl, 'Pick a start and an end.');
    replace(estimateEl, 'Estimating…');
    try {
      const { estimateBackfill: e } = await gql<{ estimateBackfill: Estimate }>(Q.estimateBackfill, { id: exportId, startAt, endAt });
      if (mine !== seq) return;
      replace(estimateEl, h('dl', { class: 'estimate-grid' },
        h('dt', null, 'Runs'), h('dd', { 'data-estimate': 'runs' }, formatCount(e.runs)),
        h('dt', null, 'Rows'), h('dd', { 'data-estimate': 'rows' }, e.rows === null ? 'unknown' : `≈ ${formatCount(e.rows)}`),
        h('dt', null, 'Size'), h('dd', { 'data-estimate': 'bytes' }, e.bytes === null ? 'unknown' : `≈ ${formatBytes(e.bytes)}`),
        h('dt', null, 'Time'), h('dd', { 'data-estimate': 'seconds' }, `≈ ${formatDuration(e.seconds)}`)),
      h('p', { class: 'muted small' }, 'An estimate, not a promise: runs also wait behind other work.'));
      estimatedFor = key();
      startBtn.disabled = e.runs === 0;
    } catch (err) {
      if (mine !== seq) return;
      replace(estimateEl);
      error.textContent = messageOf(err);
      error.hidden = false;
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onInput = () => {
    startBtn.disabled = true;
    clearTimeout(timer);
    timer = setTimeout(() => void estimate(), 300);
  };
  start.addEventListener('input', onInput);
  end.addEventListener('input', onInput);

  const dialog: HTMLDialogElement = h('dialog', { class: 'dialog', 'aria-labelledby': 'backfill-title' },
    h('form', {
      method: 'dialog',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        if (estimatedFor !== key()) return void estimate();
        startBtn.disabled = true;
        try {
          const { createBackfill } = await gql<{ createBackfill: Backfill }>(Q.createBackfill, {
            id: exportId, startAt: localInputToIso(start.value), endAt: localInputToIso(end.value),
          });
          dialog.close();
          onCreated(createBackfill);
        } catch (err) {
          error.textContent = messageOf(err);
          error.hidden = false;
          startBtn.disabled = false;
        }
      },
    },
    h('h2', { id: 'backfill-title' }, `Backfill ${exportName}`),
    h('p', { class: 'muted' }, 'Exports every interval between start and end again (times in UTC). Intervals already exported are replaced at the destination, never duplicated.'),
    h('div', { class: 'grid-2' }, field('Start (UTC)', start), field('End (UTC)', end)),
    estimateEl,
    error,
    h('div', { class: 'form-actions' },
      startBtn,
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'))));
  dialog.addEventListener('close', () => {
    clearTimeout(timer);
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  void estimate();
}
