/**
 * The backfill dialog: pick [start, end) as wall-clock times in the export's time zone (the zone its intervals
 * are aligned to; sent to the API as UTC, the UTC equivalent shown), see the estimate (runs, source rows, source
 * bytes, expected time) for exactly those values, then start. "Start" stays disabled until the estimate shown
 * matches the inputs. "From the first event" leaves the start to the server: the export's interval holding the
 * team's earliest data.
 */
import { gql } from '../api';
import { h, replace } from '../dom';
import { formatBytes, formatCount, formatDuration, isoToZonedInput, plural, utcText, zonedInputToIso } from '../format';
import { Q, type Backfill, type Estimate } from '../queries';
import { field, messageOf } from './ui';

/** The estimate in words, each figure saying which quantity it is. */
function estimateView(e: Estimate): HTMLElement[] {
  const calibration = e.calibrationRuns
    ? `calibrated on ${plural(e.calibrationRuns, 'recent run')} of this export`
    : 'default rates: this export has too few completed runs to calibrate on';
  return [
    h('dl', { class: 'estimate-grid' },
      h('dt', null, 'Runs'), h('dd', { 'data-estimate': 'runs' }, plural(e.runs, 'run')),
      h('dt', null, 'Source rows'), h('dd', { 'data-estimate': 'rows' }, e.rows === null ? 'unknown' : `≈ ${formatCount(e.rows)}`),
      h('dt', null, 'Approx. source bytes (uncompressed)'),
      h('dd', { 'data-estimate': 'bytes' }, e.bytes === null ? 'unknown' : `≈ ${formatBytes(e.bytes)}`),
      h('dt', null, 'Expected time'),
      h('dd', { 'data-estimate': 'seconds' }, `≈ ${formatDuration(e.seconds)}`,
        h('span', { class: 'muted small block', 'data-estimate': 'calibration' }, calibration))),
    h('p', { class: 'muted small' },
      'Source bytes are ClickHouse\'s uncompressed size of those rows, not what the destination receives (format and compression differ). ',
      'An estimate, not a promise: runs also wait behind other work.'),
  ];
}

/** `timeZone`: the export's IANA zone; the inputs are wall-clock times there. */
export function openBackfillDialog(exportId: string, exportName: string, timeZone: string, onCreated: (b: Backfill) => void): void {
  // Default range: the last 24 whole hours of the export's zone.
  const now = new Date();
  now.setUTCMinutes(0, 0, 0);
  const start = h('input', { type: 'datetime-local', name: 'startAt', required: true, step: 60, value: isoToZonedInput(new Date(now.getTime() - 24 * 3600_000), timeZone) });
  const fromFirstEvent = h('input', { type: 'checkbox', name: 'fromFirstEvent' });
  const fromFirstField = field('From the first event', fromFirstEvent, "Start at the interval holding this team's earliest data of the export's model.");
  fromFirstField.classList.add('field-checkbox');
  const end = h('input', { type: 'datetime-local', name: 'endAt', required: true, step: 60, value: isoToZonedInput(now, timeZone) });
  const utcRange = h('p', { class: 'muted small', 'data-utc-range': '' });
  const estimateEl = h('div', { class: 'estimate', role: 'status', 'aria-live': 'polite' });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const startBtn = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Start backfill');
  let estimatedFor = '';
  let seq = 0;

  const key = () => `${fromFirstEvent.checked ? 'first' : start.value}|${end.value}`;
  /** What the API gets as the start: startAt, or fromFirstEvent instead. */
  const startVars = () => (fromFirstEvent.checked ? { startAt: null, fromFirstEvent: true } : { startAt: zonedInputToIso(start.value, timeZone), fromFirstEvent: false });
  const estimate = async () => {
    const mine = ++seq;
    startBtn.disabled = true;
    error.hidden = true;
    const { startAt, fromFirstEvent: fromFirst } = startVars();
    const endAt = zonedInputToIso(end.value, timeZone);
    utcRange.textContent = (startAt || fromFirst) && endAt ? `In UTC: ${startAt ? utcText(startAt) : 'the first event'} – ${utcText(endAt)}` : '';
    if ((!startAt && !fromFirst) || !endAt) return replace(estimateEl, 'Pick a start and an end.');
    replace(estimateEl, 'Estimating…');
    try {
      const { estimateBackfill: e } = await gql<{ estimateBackfill: Estimate }>(Q.estimateBackfill, { id: exportId, ...startVars(), endAt });
      if (mine !== seq) return;
      replace(estimateEl, ...estimateView(e));
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
  fromFirstEvent.addEventListener('change', () => {
    start.disabled = fromFirstEvent.checked;
    start.required = !fromFirstEvent.checked;
    onInput();
  });
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
            id: exportId, ...startVars(), endAt: zonedInputToIso(end.value, timeZone),
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
    h('p', { class: 'muted' }, `Exports every interval between start and end again (times in ${timeZone}, the export's time zone). Intervals already exported are replaced at the destination, never duplicated.`),
    h('div', { class: 'grid-2' }, field(`Start (${timeZone})`, start), field(`End (${timeZone})`, end)),
    fromFirstField,
    utcRange,
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
