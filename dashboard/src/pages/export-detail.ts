/**
 * One export: its runs newest first, kept current by the `runUpdated` subscription (no reloads), backfills with
 * live progress, retry/cancel, the backfill dialog, logs of a run, and a chart of rows per run.
 */
import { gql, onReconnect, onSocketState, subscribe } from '../api';
import { h, replace } from '../dom';
import { formatBytes, formatCount, formatDate, formatDuration, formatInterval, INTERVAL_LABELS, statusLabel } from '../format';
import { exportHealth, FINAL_RUN_STATES, Q, type Backfill, type BatchExport, type Run } from '../queries';
import { navigate } from '../router';
import { openBackfillDialog } from '../components/backfill-dialog';
import { logsPanel } from '../components/logs-panel';
import { runsChart } from '../components/runs-chart';
import { actionButton, loading, notice, progressBar, statusBadge } from '../components/ui';
import { deleteButton, healthBadge, pauseButton } from './exports';

const RUNS_SHOWN = 100;

const byNewest = (a: Run, b: Run) => b.intervalStart.localeCompare(a.intervalStart) || b.createdAt.localeCompare(a.createdAt);

export async function exportDetailPage(outlet: HTMLElement, params: { id: string }): Promise<() => void> {
  const cleanups: (() => void)[] = [];
  const cleanup = () => cleanups.splice(0).forEach((c) => c());
  const msg = notice();
  const header = h('div', { class: 'page-header' }, loading());
  outlet.append(header, msg.el);

  let exp: BatchExport;
  const runs = new Map<string, Run>();
  const backfills = new Map<string, Backfill>();
  const backfillSubs = new Map<string, () => void>();
  try {
    [exp] = await Promise.all([
      gql<{ batchExport: BatchExport }>(Q.batchExport, { id: params.id }).then((r) => r.batchExport),
      loadRuns(),
      loadBackfills(),
    ]);
  } catch (e) {
    replace(header, h('h1', null, 'Export'));
    msg.error(e);
    return cleanup;
  }

  async function loadRuns(): Promise<void> {
    const { runs: conn } = await gql<{ runs: { edges: { node: Run }[] } }>(Q.runs, { id: params.id, first: RUNS_SHOWN });
    runs.clear();
    for (const { node } of conn.edges) runs.set(node.id, node);
  }
  async function loadBackfills(): Promise<void> {
    const { backfills: list } = await gql<{ backfills: Backfill[] }>(Q.backfills, { id: params.id });
    backfills.clear();
    for (const b of list) backfills.set(b.id, b);
  }

  // ---- header ----
  const liveDot = h('span', { class: 'live', role: 'status', 'aria-live': 'polite' }, 'Connecting…');
  cleanups.push(onSocketState((s) => {
    liveDot.className = `live live-${s}`;
    liveDot.textContent = s === 'live' ? 'Live' : s === 'connecting' ? 'Connecting…' : 'Offline — reconnecting';
  }));
  const renderHeader = () => {
    const badge = healthBadge(exp, exportHealth({ paused: exp.paused, latestRuns: [...runs.values()].sort(byNewest) }));
    replace(header,
      h('div', null,
        h('p', { class: 'crumbs' }, h('a', { href: '/exports' }, 'Exports'), ' / '),
        h('h1', null, exp.name, ' ', badge),
        h('p', { class: 'muted' },
          `${exp.model.toLowerCase()} · ${INTERVAL_LABELS[exp.interval] ?? exp.interval} · ${exp.timezone} → `,
          h('a', { href: `/destinations/${exp.destination.id}` }, exp.destination.name),
          exp.pausedReason ? ` · paused: ${exp.pausedReason}` : '')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => openBackfillDialog(exp.id, exp.name, (b) => {
          upsertBackfill(b);
          msg.ok(`Backfill started: ${b.progress.totalRuns} runs queued.`);
        }) }, 'Backfill…'),
        pauseButton(exp, (u) => {
          exp = u;
          renderHeader();
        }, msg.error),
        deleteButton(exp, () => navigate('/exports'), msg.error)));
  };

  // ---- backfills ----
  const backfillList = h('ul', { class: 'backfills', 'aria-label': 'Backfills' });
  const backfillSection = h('section', { class: 'card', 'aria-labelledby': 'backfills-title' }, h('h2', { id: 'backfills-title' }, 'Backfills'), backfillList);
  const renderBackfills = () => {
    backfillSection.hidden = backfills.size === 0;
    replace(backfillList, [...backfills.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 10).map((b) => {
      const active = b.status === 'STARTING' || b.status === 'RUNNING';
      const p = b.progress;
      return h('li', { class: 'backfill', 'data-backfill': b.id },
        statusBadge(b.status, statusLabel(b.status)),
        h('span', null, formatInterval(b.startAt, b.endAt)),
        progressBar(p.finishedRuns, p.totalRuns, `Backfill progress, ${p.finishedRuns} of ${p.totalRuns} runs finished`),
        h('span', { class: 'muted' }, `${p.finishedRuns}/${p.totalRuns} runs · ${formatCount(p.recordsCompleted)} rows${p.failedRuns ? ` · ${p.failedRuns} failed` : ''}`),
        active ? actionButton('Cancel', async () => upsertBackfill((await gql<{ cancelBackfill: Backfill }>(Q.cancelBackfill, { id: b.id })).cancelBackfill),
          { label: `Cancel backfill ${formatInterval(b.startAt, b.endAt)}`, onError: msg.error }) : null);
    }));
  };
  const watchBackfill = (b: Backfill) => {
    const active = b.status === 'STARTING' || b.status === 'RUNNING';
    if (!active || backfillSubs.has(b.id)) return;
    backfillSubs.set(b.id, subscribe<{ backfillProgress: Backfill }>(Q.backfillProgress, { id: b.id }, (d) => upsertBackfill(d.backfillProgress), msg.error));
  };
  function upsertBackfill(b: Backfill): void {
    backfills.set(b.id, b);
    watchBackfill(b);
    if (!(b.status === 'STARTING' || b.status === 'RUNNING')) {
      backfillSubs.get(b.id)?.();
      backfillSubs.delete(b.id);
    }
    renderBackfills();
  }
  cleanups.push(() => backfillSubs.forEach((unsub) => unsub()));
  // A finished backfill is not watched; a retry of one of its runs still changes its progress.
  const refreshTimers = new Map<string, ReturnType<typeof setTimeout>>();
  const refreshBackfill = (id: string) => {
    clearTimeout(refreshTimers.get(id));
    refreshTimers.set(id, setTimeout(() => {
      gql<{ backfill: Backfill }>(Q.backfill, { id }).then((r) => upsertBackfill(r.backfill)).catch(msg.error);
    }, 300));
  };
  cleanups.push(() => refreshTimers.forEach((t) => clearTimeout(t)));

  // ---- runs ----
  const logs = logsPanel();
  const tbody = h('tbody');
  const chartBox = h('div', { class: 'chart-box' });
  const emptyRuns = h('p', { class: 'empty' }, 'No runs yet. The first run exports the interval in progress once it closes; start a backfill to export the past.');
  const table = h('table', { class: 'runs', 'aria-labelledby': 'runs-title' },
    h('thead', null, h('tr', null, ['State', 'Interval', 'Started', 'Duration', 'Rows', 'Bytes', 'Details', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  const runRow = (r: Run): HTMLElement => {
    const active = r.status === 'RUNNING';
    const interval = formatInterval(r.intervalStart, r.intervalEnd);
    return h('tr', { 'data-run': r.id, 'data-status': r.status },
      h('td', { 'data-label': 'State' }, h('div', null, statusBadge(r.status), r.trigger !== 'SCHEDULE' ? h('span', { class: 'trigger' }, r.trigger.toLowerCase()) : null)),
      h('td', { 'data-label': 'Interval' }, interval),
      h('td', { 'data-label': 'Started' }, formatDate(r.startedAt)),
      h('td', { 'data-label': 'Duration' }, formatDuration(r.durationSeconds)),
      h('td', { 'data-label': 'Rows' }, r.status === 'COMPLETED' ? formatCount(r.recordsCompleted) : formatCount(r.recordsRead)),
      h('td', { 'data-label': 'Bytes' }, formatBytes(r.bytesExported)),
      h('td', { 'data-label': 'Details', class: 'details' },
        active ? progressBar(r.recordsRead, r.recordsTotalCount, `Rows read for ${interval}`) : null,
        r.latestError && r.status !== 'COMPLETED' ? h('span', { class: 'error-text' }, r.errorKind ? `${r.errorKind}: ` : '', r.latestError) : null,
        r.attempt > 1 ? h('span', { class: 'muted' }, `attempt ${r.attempt}`) : null,
        r.cancelRequestedAt && !FINAL_RUN_STATES.has(r.status) ? h('span', { class: 'muted' }, 'cancelling…') : null),
      h('td', { 'data-label': 'Actions', class: 'run-actions' },
        FINAL_RUN_STATES.has(r.status)
          ? actionButton('Retry', async () => upsertRun((await gql<{ retryRun: Run }>(Q.retryRun, { id: r.id })).retryRun), { label: `Retry run ${interval}`, onError: msg.error })
          : actionButton('Cancel', async () => upsertRun((await gql<{ cancelRun: Run }>(Q.cancelRun, { id: r.id })).cancelRun), { label: `Cancel run ${interval}`, onError: msg.error }),
        h('button', { type: 'button', 'aria-label': `Logs of run ${interval}`, onclick: () => void logs.show(r) }, 'Logs')));
  };

  // Progress events come in bursts; paint at most once per frame.
  let frame = 0;
  const renderRuns = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const list = [...runs.values()].sort(byNewest).slice(0, RUNS_SHOWN);
      table.hidden = list.length === 0;
      emptyRuns.hidden = list.length > 0;
      replace(tbody, list.map(runRow));
      replace(chartBox, runsChart(list));
      renderHeader();
    });
  };
  cleanups.push(() => cancelAnimationFrame(frame));
  function upsertRun(r: Run): void {
    runs.set(r.id, r);
    renderRuns();
    logs.refreshIfShowing(r.id);
    if (r.backfillId && !backfills.has(r.backfillId)) void loadBackfills().then(() => backfills.forEach(watchBackfill)).then(renderBackfills).catch(msg.error);
    else if (r.backfillId && !backfillSubs.has(r.backfillId)) refreshBackfill(r.backfillId);
  }

  cleanups.push(subscribe<{ runUpdated: Run }>(Q.runUpdated, { id: params.id }, (d) => upsertRun(d.runUpdated), msg.error));
  cleanups.push(onReconnect(() => {
    void Promise.all([loadRuns(), loadBackfills()]).then(() => {
      backfills.forEach(watchBackfill);
      renderRuns();
      renderBackfills();
    }).catch(msg.error);
  }));

  outlet.append(
    backfillSection,
    h('section', { class: 'card', 'aria-labelledby': 'runs-title' },
      h('div', { class: 'section-header' }, h('h2', { id: 'runs-title' }, 'Runs'), liveDot),
      emptyRuns,
      h('div', { class: 'table-wrap' }, table)),
    logs.el,
    h('section', { class: 'card', 'aria-labelledby': 'chart-title' }, h('h2', { id: 'chart-title' }, 'Rows per run'), chartBox));
  backfills.forEach(watchBackfill);
  renderRuns();
  renderBackfills();
  renderHeader();
  return cleanup;
}
