/**
 * One export: charts of its runs (every outcome), backfills with live progress and their outcome, the runs
 * (cursor pages, status and interval filters) kept current by the `runUpdated` subscription, rate and ETA of
 * running runs, retry/cancel, the backfill dialog, and the export's logs. Times are shown in the export's time
 * zone, named, with UTC on hover.
 */
import { gql, onReconnect, onSocketState, subscribe } from '../api';
import { h, replace, uid } from '../dom';
import {
  currentAttemptStart, formatBytes, formatCount, formatDate, formatDuration, formatInterval, INTERVAL_LABELS, localInputToIso, plural, runProgress,
  statusLabel, utcText,
} from '../format';
import { exportHealth, FINAL_RUN_STATES, nodes, Q, type Backfill, type BatchExport, type Connection, type Run, type RunAttempt } from '../queries';
import { navigate } from '../router';
import { openBackfillDialog } from '../components/backfill-dialog';
import { logsPanel } from '../components/logs-panel';
import { runsChart } from '../components/runs-chart';
import { actionButton, field, loading, notice, progressBar, statusBadge } from '../components/ui';
import { deleteButton, healthBadge, pauseButton } from './exports';

export const RUNS_PAGE_SIZE = 20;

const STATUS_FILTERS: Record<string, { label: string; statuses?: string[] }> = {
  all: { label: 'All states' },
  completed: { label: 'Completed', statuses: ['COMPLETED'] },
  failed: { label: 'Failed or timed out', statuses: ['FAILED', 'TIMED_OUT'] },
  retrying: { label: 'Retrying', statuses: ['FAILED_RETRYABLE'] },
  running: { label: 'Running', statuses: ['RUNNING'] },
  queued: { label: 'Queued', statuses: ['STARTING'] },
  cancelled: { label: 'Cancelled', statuses: ['CANCELLED'] },
};

const byNewest = (a: Run, b: Run) => b.intervalStart.localeCompare(a.intervalStart) || b.createdAt.localeCompare(a.createdAt);
const isActive = (b: Backfill) => b.status === 'STARTING' || b.status === 'RUNNING';

/** An instant in a zone, named, with UTC on hover. */
const timeIn = (iso: string | null, zone: string) => (iso ? h('time', { datetime: iso, title: utcText(iso) }, formatDate(iso, zone)) : '—');

/**
 * What a backfill's runs came to, in words and a colour: a backfill whose runs all failed is "Failed", one with
 * some failed runs "Partly failed", whatever status it ended in.
 */
export function backfillOutcome(b: Backfill): { key: string; label: string } {
  const p = b.progress;
  if (p.totalRuns > 0 && p.failedRuns >= p.totalRuns) return { key: 'failed', label: 'Failed' };
  if (p.failedRuns > 0) return { key: 'partial', label: b.status === 'COMPLETED' ? 'Partly failed' : `${statusLabel(b.status)}, some failed` };
  return { key: b.status.toLowerCase(), label: statusLabel(b.status) };
}

/** A bar of a backfill's runs: completed, failed and still to finish, each its own colour and named in words. */
function backfillBar(b: Backfill): HTMLElement {
  const p = b.progress;
  const failed = p.failedRuns;
  const done = Math.max(0, p.finishedRuns - failed);
  const pct = (n: number) => (p.totalRuns ? `${(n / p.totalRuns) * 100}%` : '0%');
  return h('div', { class: 'segbar', role: 'img', 'aria-label': `${plural(done, 'run')} finished without failure, ${plural(failed, 'run')} failed, ${plural(p.totalRuns - p.finishedRuns, 'run')} to go, of ${plural(p.totalRuns, 'run')}` },
    h('span', { class: 'seg seg-ok', style: `width:${pct(done)}` }),
    h('span', { class: 'seg seg-bad', style: `width:${pct(failed)}` }));
}

/** RunAttemptStatus values: the badge's class and its label. */
const ATTEMPT_STATUS: Record<string, [string, string]> = {
  RUNNING: ['running', 'Running'], COMPLETED: ['completed', 'Completed'], FAILED: ['failed', 'Failed'], FAILED_RETRYABLE: ['failed_retryable', 'Failed, retried'],
  CANCELLED: ['cancelled', 'Cancelled'], TIMED_OUT: ['timed_out', 'Timed out'], LOST: ['lost', 'Lost'],
};

/** Every attempt of a run, oldest first: who ran it, when, for how long, how it ended and what it moved. */
function attemptsTable(r: Run, interval: string, zone: string): HTMLElement {
  const row = (a: RunAttempt) => h('tr', { 'data-attempt': String(a.number), 'data-attempt-status': a.status },
    h('td', { 'data-label': 'Attempt' }, `#${a.number}`),
    h('td', { 'data-label': 'Worker' }, a.workerId ? h('code', null, a.workerId) : '—'),
    h('td', { 'data-label': 'Started' }, timeIn(a.startedAt, zone)),
    h('td', { 'data-label': 'Ended' }, a.finishedAt ? timeIn(a.finishedAt, zone) : 'still running'),
    h('td', { 'data-label': 'Duration' }, formatDuration(a.durationSeconds)),
    h('td', { 'data-label': 'Outcome' }, statusBadge(...(ATTEMPT_STATUS[a.status] ?? [a.status.toLowerCase(), a.status]))),
    h('td', { 'data-label': 'Rows' }, `${formatCount(a.recordsRead)} read · ${formatCount(a.recordsCompleted)} landed`),
    h('td', { 'data-label': 'Bytes' }, formatBytes(a.bytesExported)),
    h('td', { 'data-label': 'Error', class: 'error-cell' }, a.error ? h('span', { class: 'error-text' }, a.errorKind ? `${a.errorKind.toLowerCase()}: ` : '', a.error) : '—'));
  return h('div', { class: 'attempts' },
    h('table', { class: 'attempts-table', 'aria-label': `Attempts of run ${interval}` },
      h('thead', null, h('tr', null, ['Attempt', 'Worker', 'Started', 'Ended', 'Duration', 'Outcome', 'Rows', 'Bytes', 'Error'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, r.attempts.map(row))),
    h('p', { class: 'muted small' }, 'The run\'s duration is its current attempt\'s. A user\'s retry numbers its attempts from #1 again.'));
}

/** What an export writes (columns or custom query) and how its runs behave (schema mode, concurrency). */
function exportDataSummary(e: BatchExport): HTMLElement {
  const column = (f: NonNullable<BatchExport['fields']>[number]) =>
    `${f.source}${f.alias ? ` → ${f.alias}` : ''}${f.type ? ` (${f.type.toLowerCase()})` : ''}`;
  const what = e.layout === 'POSTHOG' ? 'PostHog\'s events columns for this kind of destination' : e.customQuery
    ? `custom query, ${e.customQuery.mode.toLowerCase()} by ${e.customQuery.primaryKey.join(', ')}${e.customQuery.versionKey.length ? `, version ${e.customQuery.versionKey.join(', ')}` : ''}`
    : e.fields ? `columns ${e.fields.map(column).join(', ')}` : 'every column of the model';
  return h('div', { class: 'muted', 'data-export-data': '' },
    h('p', null, `Data: ${what} · schema changes: ${e.schemaMode === 'FROZEN' ? 'frozen (a change fails the run)' : 'evolve (columns added)'} · up to ${e.maxConcurrentRuns} runs at once`),
    e.customQuery ? h('details', null, h('summary', null, 'Query'), h('pre', { class: 'code' }, e.customQuery.query)) : null);
}

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
  /** First sample of each running attempt seen here: the baseline of its rate. */
  const samples = new Map<string, { attempt: number; read: number; at: number }>();
  /** Runs whose attempt history is open: kept across the re-renders progress events cause. */
  const openAttempts = new Set<string>();

  // ---- runs: filters and cursor pages ----
  const statusFilter = h('select', { id: uid('run-status'), name: 'status' }, Object.entries(STATUS_FILTERS).map(([v, f]) => h('option', { value: v }, f.label)));
  const fromInput = h('input', { id: uid('run-from'), name: 'intervalFrom', type: 'datetime-local', step: 60 });
  const toInput = h('input', { id: uid('run-to'), name: 'intervalTo', type: 'datetime-local', step: 60 });
  /** Cursors of the pages before the current one: `after` of page n is cursors[n]. */
  let cursors: (string | null)[] = [null];
  let pageInfo = { endCursor: null as string | null, hasNextPage: false };
  const filterVars = () => ({
    status: STATUS_FILTERS[statusFilter.value].statuses,
    from: localInputToIso(fromInput.value),
    to: localInputToIso(toInput.value),
  });
  const filtered = () => statusFilter.value !== 'all' || !!fromInput.value || !!toInput.value;
  // The interval filter's range (open ends: all time before, up to now), as the runs list reads it.
  const retryFailedBtn = actionButton('Retry failed runs in this range', async () => {
    const { from, to } = filterVars();
    const { retryFailedRuns: n } = await gql<{ retryFailedRuns: number }>(Q.retryFailedRuns, {
      id: params.id, startAt: from ?? new Date(0).toISOString(), endAt: to ?? new Date().toISOString(),
    });
    msg.ok(n ? `${plural(n, 'failed run')} queued again.` : 'No failed or timed-out runs in this range.');
  }, { onError: (e) => msg.error(e) });

  async function loadRuns(): Promise<void> {
    const { runs: conn } = await gql<{ runs: Connection<Run> }>(Q.runs, { id: params.id, first: RUNS_PAGE_SIZE, after: cursors[cursors.length - 1], ...filterVars() });
    runs.clear();
    for (const { node } of conn.edges) runs.set(node.id, node);
    pageInfo = conn.pageInfo;
  }
  async function loadBackfills(): Promise<void> {
    const list = nodes((await gql<{ backfills: { edges: { node: Backfill }[] } }>(Q.backfills, { id: params.id })).backfills);
    backfills.clear();
    for (const b of list) backfills.set(b.id, b);
  }

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
  const zone = () => exp.timezone;
  if (new URLSearchParams(location.search).has('saved')) msg.ok('Export saved.');

  // ---- header ----
  const liveDot = h('span', { class: 'live', role: 'status', 'aria-live': 'polite' }, 'Connecting…');
  cleanups.push(onSocketState((s) => {
    liveDot.className = `live live-${s}`;
    liveDot.textContent = s === 'live' ? 'Live' : s === 'connecting' ? 'Connecting…' : 'Offline — reconnecting';
  }));
  const renderHeader = () => {
    const badge = healthBadge(exp, exportHealth({ paused: exp.paused, latestRuns: cursors.length === 1 && !filtered() ? [...runs.values()].sort(byNewest) : exp.latestRuns }));
    replace(header,
      h('div', null,
        h('p', { class: 'crumbs' }, h('a', { href: '/exports' }, 'Exports'), ' / '),
        h('h1', null, exp.name, ' ', badge),
        h('p', { class: 'muted', 'data-export-summary': '' },
          `${exp.model.toLowerCase()} · ${INTERVAL_LABELS[exp.interval] ?? exp.interval} · times in ${exp.timezone} → `,
          h('a', { href: `/destinations/${exp.destination.id}` }, exp.destination.name),
          exp.pausedReason ? ` · paused: ${exp.pausedReason}` : '')),
        exportDataSummary(exp),
      h('div', { class: 'actions' },
        h('a', { href: `/exports/${exp.id}/edit`, class: 'button', 'aria-label': `Edit ${exp.name}` }, 'Edit'),
        h('a', { href: `/notifications?export=${exp.id}`, class: 'button', 'aria-label': `Notifications of ${exp.name}` }, 'Notifications'),
        h('button', { type: 'button', class: 'primary', onclick: () => openBackfillDialog(exp.id, exp.name, exp.timezone, (b) => {
          upsertBackfill(b);
          msg.ok(`Backfill started: ${plural(b.progress.totalRuns, 'run')} queued.`);
        }) }, 'Backfill…'),
        pauseButton(exp, (u) => {
          exp = u;
          renderHeader();
          void logs.load();
        }, msg.error),
        deleteButton(exp, () => navigate('/exports'), msg.error)));
  };

  // ---- backfills ----
  const backfillList = h('ul', { class: 'backfills', 'aria-label': 'Backfills' });
  const backfillSection = h('section', { class: 'card', 'aria-labelledby': 'backfills-title' }, h('h2', { id: 'backfills-title' }, 'Backfills'), backfillList);
  const renderBackfills = () => {
    backfillSection.hidden = backfills.size === 0;
    replace(backfillList, [...backfills.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 10).map((b) => {
      const p = b.progress;
      const outcome = backfillOutcome(b);
      const range = formatInterval(b.startAt, b.endAt, zone());
      return h('li', { class: `backfill backfill-${outcome.key}`, 'data-backfill': b.id, 'data-outcome': outcome.key },
        statusBadge(outcome.key, outcome.label),
        h('span', { title: `${utcText(b.startAt)} – ${utcText(b.endAt)}` }, range),
        backfillBar(b),
        h('span', { class: 'muted backfill-counts' },
          `${p.finishedRuns} of ${plural(p.totalRuns, 'run')} finished · ${plural(p.recordsCompleted, 'row')}${p.failedRuns ? ` · ${p.failedRuns} failed` : ''}`),
        isActive(b) ? actionButton('Cancel', async () => upsertBackfill((await gql<{ cancelBackfill: Backfill }>(Q.cancelBackfill, { id: b.id })).cancelBackfill),
          { label: `Cancel backfill ${range}`, onError: msg.error }) : null);
    }));
  };
  const watchBackfill = (b: Backfill) => {
    if (!isActive(b) || backfillSubs.has(b.id)) return;
    backfillSubs.set(b.id, subscribe<{ backfillProgress: Backfill }>(Q.backfillProgress, { id: b.id }, (d) => upsertBackfill(d.backfillProgress), msg.error));
  };
  function upsertBackfill(b: Backfill): void {
    backfills.set(b.id, b);
    watchBackfill(b);
    if (!isActive(b)) {
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
  const logs = logsPanel(params.id, zone);
  const tbody = h('tbody');
  const chartBox = h('div', { class: 'chart-box' });
  const emptyRuns = h('p', { class: 'empty' });
  const pageLabel = h('span', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const newer = h('button', { type: 'button', 'aria-label': 'Newer runs' }, '← Newer');
  const olderBtn = h('button', { type: 'button', 'aria-label': 'Older runs' }, 'Older →');
  const table = h('table', { class: 'runs', 'aria-labelledby': 'runs-title' },
    h('thead', null, h('tr', null, ['State', 'Interval', 'Started', 'Duration', 'Rows', 'Bytes', 'Details', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);

  const progressText = (r: Run) => {
    const s = samples.get(r.id);
    const p = runProgress(r, s && s.attempt === r.attempt ? s : undefined);
    return [
      p.rowsPerSecond !== null ? `${formatCount(Math.round(p.rowsPerSecond))} rows/s` : 'measuring rate…',
      p.eta !== null ? `ETA ${formatDuration(p.eta)}` : r.recordsTotalCount === null ? 'total unknown' : null,
    ].filter(Boolean).join(' · ');
  };
  const runRows = (r: Run): HTMLElement[] => {
    const running = r.status === 'RUNNING';
    const interval = formatInterval(r.intervalStart, r.intervalEnd, zone());
    const attemptStart = currentAttemptStart(r);
    const historyOpen = openAttempts.has(r.id);
    const historyId = `attempts-${r.id}`;
    const main = h('tr', { 'data-run': r.id, 'data-status': r.status },
      h('td', { 'data-label': 'State' }, h('div', null, statusBadge(r.status), r.trigger !== 'SCHEDULE' ? h('span', { class: 'trigger' }, r.trigger.toLowerCase()) : null)),
      h('td', { 'data-label': 'Interval', title: `${utcText(r.intervalStart)} – ${utcText(r.intervalEnd)}` }, interval),
      // The current attempt's start and duration: a retried 100 ms run must not read as the wait since its first attempt.
      h('td', { 'data-label': 'Started' }, timeIn(attemptStart, zone())),
      h('td', { 'data-label': 'Duration', ...(running && attemptStart ? { 'data-elapsed-since': attemptStart } : {}) },
        running ? formatDuration(runProgress(r).elapsed) : formatDuration(r.durationSeconds),
        r.attempts.length > 1 ? h('span', { class: 'muted small block' }, `current attempt of ${r.attempts.length}`) : null),
      h('td', { 'data-label': 'Rows' }, r.status === 'COMPLETED' ? formatCount(r.recordsCompleted)
        : running && r.recordsTotalCount !== null ? `${formatCount(r.recordsRead)} of ${formatCount(r.recordsTotalCount)}` : formatCount(r.recordsRead)),
      h('td', { 'data-label': 'Bytes' }, formatBytes(r.bytesExported)),
      h('td', { 'data-label': 'Details', class: 'details' },
        running ? progressBar(r.recordsRead, r.recordsTotalCount, `Rows read for ${interval}`) : null,
        running ? h('span', { class: 'muted small rate', 'data-rate': '' }, progressText(r)) : null,
        r.latestError && r.status !== 'COMPLETED' ? h('span', { class: 'error-text' }, r.errorKind ? `${r.errorKind.toLowerCase()}: ` : '', r.latestError) : null,
        r.attempt > 1 ? h('span', { class: 'muted' }, `attempt ${r.attempt}`) : null,
        r.cancelRequestedAt && !FINAL_RUN_STATES.has(r.status) ? h('span', { class: 'muted' }, 'cancelling…') : null),
      h('td', { 'data-label': 'Actions', class: 'run-actions' },
        FINAL_RUN_STATES.has(r.status)
          ? actionButton('Retry', async () => upsertRun((await gql<{ retryRun: Run }>(Q.retryRun, { id: r.id })).retryRun), { label: `Retry run ${interval}`, onError: msg.error })
          : actionButton('Cancel', async () => upsertRun((await gql<{ cancelRun: Run }>(Q.cancelRun, { id: r.id })).cancelRun), { label: `Cancel run ${interval}`, onError: msg.error }),
        h('button', { type: 'button', 'aria-label': `Logs of run ${interval}`, onclick: () => void logs.showRun(r) }, 'Logs'),
        r.attempts.length ? h('button', {
          type: 'button', 'aria-label': `Attempts of run ${interval}`, 'aria-expanded': String(historyOpen), 'aria-controls': historyId,
          onclick: () => {
            if (!openAttempts.delete(r.id)) openAttempts.add(r.id);
            renderRuns();
          },
        }, `Attempts (${r.attempts.length})`) : null));
    if (!historyOpen || !r.attempts.length) return [main];
    return [main, h('tr', { class: 'attempts-row', id: historyId, 'data-attempts-of': r.id }, h('td', { colspan: 8 }, attemptsTable(r, interval, zone())))];
  };

  // Progress events come in bursts; paint at most once per frame.
  let frame = 0;
  const renderRuns = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const list = [...runs.values()].sort(byNewest).slice(0, RUNS_PAGE_SIZE);
      table.hidden = list.length === 0;
      emptyRuns.hidden = list.length > 0;
      emptyRuns.textContent = filtered()
        ? 'No runs match these filters.'
        : cursors.length > 1 ? 'No older runs.' : 'No runs yet. The first run exports the interval in progress once it closes; start a backfill to export the past.';
      replace(tbody, list.flatMap(runRows));
      replace(chartBox, runsChart(list, zone()));
      const page = cursors.length;
      pageLabel.textContent = `Page ${page} · ${plural(list.length, 'run')}${filtered() ? ' matching the filters' : ''}`;
      newer.disabled = page === 1;
      olderBtn.disabled = !pageInfo.hasNextPage;
      renderHeader();
    });
  };
  cleanups.push(() => cancelAnimationFrame(frame));
  // Elapsed time and the rate of running runs move without events.
  const ticker = setInterval(() => {
    for (const td of tbody.querySelectorAll<HTMLElement>('td[data-elapsed-since]')) {
      td.firstChild!.textContent = formatDuration((Date.now() - Date.parse(td.dataset.elapsedSince!)) / 1000);
    }
  }, 1000);
  cleanups.push(() => clearInterval(ticker));

  const reloadRuns = async () => {
    try {
      await loadRuns();
      renderRuns();
    } catch (e) {
      msg.error(e);
    }
  };
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  cleanups.push(() => clearTimeout(reloadTimer));
  const matches = (r: Run) => {
    const f = filterVars();
    return (!f.status || f.status.includes(r.status)) && (!f.from || r.intervalEnd > f.from) && (!f.to || r.intervalStart < f.to);
  };
  function upsertRun(r: Run): void {
    if (r.status === 'RUNNING' && samples.get(r.id)?.attempt !== r.attempt && r.heartbeatAt) {
      samples.set(r.id, { attempt: r.attempt, read: r.recordsRead, at: Date.parse(r.heartbeatAt) });
    }
    if (runs.has(r.id)) runs.set(r.id, r);
    else if (cursors.length === 1 && matches(r)) {
      // A new run on the first page: shown at once, then the page is re-read so its cursors stay right.
      runs.set(r.id, r);
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(() => void reloadRuns(), 1000);
    }
    renderRuns();
    logs.refreshFor(r.id);
    if (r.backfillId && !backfills.has(r.backfillId)) void loadBackfills().then(() => backfills.forEach(watchBackfill)).then(renderBackfills).catch(msg.error);
    else if (r.backfillId && !backfillSubs.has(r.backfillId)) refreshBackfill(r.backfillId);
  }

  const applyFilters = () => {
    cursors = [null];
    void reloadRuns();
  };
  statusFilter.addEventListener('change', applyFilters);
  fromInput.addEventListener('change', applyFilters);
  toInput.addEventListener('change', applyFilters);
  newer.addEventListener('click', () => {
    if (cursors.length > 1) cursors.pop();
    void reloadRuns();
  });
  olderBtn.addEventListener('click', () => {
    if (!pageInfo.hasNextPage) return;
    cursors.push(pageInfo.endCursor);
    void reloadRuns();
  });

  cleanups.push(subscribe<{ runUpdated: Run }>(Q.runUpdated, { id: params.id }, (d) => upsertRun(d.runUpdated), msg.error));
  cleanups.push(onReconnect(() => {
    void Promise.all([loadRuns(), loadBackfills()]).then(() => {
      backfills.forEach(watchBackfill);
      renderRuns();
      renderBackfills();
      void logs.load();
    }).catch(msg.error);
  }));

  outlet.append(
    h('section', { class: 'card', 'aria-labelledby': 'chart-title' }, h('h2', { id: 'chart-title' }, 'Runs at a glance'), chartBox),
    backfillSection,
    h('section', { class: 'card', 'aria-labelledby': 'runs-title' },
      h('div', { class: 'section-header' }, h('h2', { id: 'runs-title' }, 'Runs'), liveDot),
      h('div', { class: 'run-filters' },
        field('State', statusFilter),
        field(`Intervals from (UTC)`, fromInput),
        field(`Intervals until (UTC)`, toInput),
        retryFailedBtn),
      emptyRuns,
      h('div', { class: 'table-wrap' }, table),
      h('nav', { class: 'pager', 'aria-label': 'Run pages' }, newer, pageLabel, olderBtn)),
    logs.el);
  backfills.forEach(watchBackfill);
  renderRuns();
  renderBackfills();
  renderHeader();
  void logs.load();
  return cleanup;
}
