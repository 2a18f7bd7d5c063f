/**
 * An export's logs, newest first: every entry of the export (auto-pause reasons and other export-level lines
 * included), or one run's, with a level filter, a search box and cursor paging ("Older entries").
 */
import { gql } from '../api';
import { h, replace, uid } from '../dom';
import { formatDate, formatInterval, utcText } from '../format';
import { Q, type Connection, type LogEntry, type Run } from '../queries';
import { field, messageOf } from './ui';

const PAGE = 100;

const LEVELS: Record<string, string[] | undefined> = {
  all: undefined,
  info: ['INFO', 'WARN', 'ERROR'],
  warn: ['WARN', 'ERROR'],
  error: ['ERROR'],
};

export interface LogsPanel {
  el: HTMLElement;
  /** Shows only this run's entries (undefined: the whole export's), focusing the panel. */
  showRun(run: Run | undefined): Promise<void>;
  /** Reloads the first page soon, when it could hold entries of this run. */
  refreshFor(runId: string): void;
  load(): Promise<void>;
}

export function logsPanel(exportId: string, timeZone: () => string): LogsPanel {
  const heading = h('h2', { id: 'logs-title', tabindex: -1 }, 'Logs');
  const list = h('div', { class: 'logs', role: 'log', 'aria-labelledby': 'logs-title' });
  const level = h('select', { id: uid('log-level'), name: 'level' },
    h('option', { value: 'all' }, 'All levels'),
    h('option', { value: 'info' }, 'Info and above'),
    h('option', { value: 'warn' }, 'Warnings and errors'),
    h('option', { value: 'error' }, 'Errors'));
  const search = h('input', { id: uid('log-search'), name: 'search', type: 'search', placeholder: 'e.g. paused', autocomplete: 'off' });
  const scope = h('p', { class: 'log-scope muted' });
  const older = h('button', { type: 'button', hidden: true }, 'Older entries');
  const status = h('p', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
  const el = h('section', { class: 'card logs-panel', 'aria-labelledby': 'logs-title' },
    h('div', { class: 'section-header' }, heading),
    h('div', { class: 'log-filters' }, field('Level', level), field('Search', search, 'Case-insensitive text in the message.')),
    scope, list, h('div', { class: 'form-actions' }, older, status));

  let run: Run | undefined;
  let seq = 0;
  let entries: LogEntry[] = [];
  let cursor: string | null = null;
  let pending: ReturnType<typeof setTimeout> | undefined;

  const renderScope = () => {
    replace(scope, run
      ? ['Showing the run ', formatInterval(run.intervalStart, run.intervalEnd, timeZone()), ' only. ',
        h('button', { type: 'button', class: 'link', onclick: () => void panel.showRun(undefined) }, 'Show the whole export')]
      : 'Showing every entry of this export, export-level ones (pauses, skipped intervals) included.');
  };
  const renderEntries = () => {
    replace(list, entries.length
      ? h('ol', null, entries.map((l) => h('li', { class: `log log-${l.level.toLowerCase()}`, 'data-level': l.level },
        h('time', { datetime: l.timestamp, title: utcText(l.timestamp) }, formatDate(l.timestamp, timeZone())),
        h('span', { class: 'level' }, l.level),
        h('span', { class: 'message' }, l.message, l.runId ? null : h('span', { class: 'tag' }, 'export')))))
      : h('p', { class: 'muted' }, search.value.trim() || level.value !== 'all' ? 'No entries match these filters.' : 'No log entries yet.'));
  };

  const fetchPage = async (after: string | null) => {
    const mine = ++seq;
    const vars = {
      exportId, runId: run?.id, first: PAGE, after, level: LEVELS[level.value], search: search.value.trim() || undefined,
    };
    const { logs } = await gql<{ logs: Connection<LogEntry> }>(Q.logs, vars);
    if (mine !== seq) return;
    entries = after ? [...entries, ...logs.edges.map((e) => e.node)] : logs.edges.map((e) => e.node);
    cursor = logs.pageInfo.hasNextPage ? logs.pageInfo.endCursor : null;
    older.hidden = !cursor;
    status.textContent = `${entries.length.toLocaleString()} ${entries.length === 1 ? 'entry' : 'entries'} shown${cursor ? ', more are older' : ''}.`;
    renderEntries();
  };
  const load = async () => {
    try {
      await fetchPage(null);
    } catch (e) {
      replace(list, h('p', { class: 'notice notice-error', role: 'alert' }, messageOf(e)));
    }
  };
  older.addEventListener('click', () => {
    if (cursor) fetchPage(cursor).catch((e) => (status.textContent = messageOf(e)));
  });
  level.addEventListener('change', () => void load());
  let typing: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => void load(), 300);
  });

  const panel: LogsPanel = {
    el,
    async showRun(r) {
      run = r;
      heading.textContent = r ? 'Logs of a run' : 'Logs';
      renderScope();
      replace(list, h('p', { class: 'muted' }, 'Loading…'));
      await load();
      heading.focus();
      el.scrollIntoView({ block: 'nearest' });
    },
    refreshFor(runId) {
      if (run && run.id !== runId) return;
      clearTimeout(pending);
      pending = setTimeout(() => void load(), 500);
    },
    load,
  };
  renderScope();
  return panel;
}
