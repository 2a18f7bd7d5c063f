/** One run's logs, oldest first, refreshed on demand (the export page refreshes it when the run changes). */
import { gql } from '../api';
import { h, replace } from '../dom';
import { formatInterval } from '../format';
import { Q, type LogEntry, type Run } from '../queries';
import { messageOf } from './ui';

export interface LogsPanel {
  el: HTMLElement;
  show(run: Run): Promise<void>;
  /** Reloads if the panel shows this run. */
  refreshIfShowing(runId: string): void;
  runId(): string | undefined;
}

export function logsPanel(): LogsPanel {
  const heading = h('h2', { id: 'logs-title', tabindex: -1 }, 'Logs');
  const list = h('div', { class: 'logs', role: 'log', 'aria-labelledby': 'logs-title' });
  const el = h('section', { class: 'card logs-panel', hidden: true, 'aria-labelledby': 'logs-title' },
    h('div', { class: 'section-header' }, heading,
      h('button', { type: 'button', 'aria-label': 'Close logs', onclick: () => {
        el.hidden = true;
        current = undefined;
      } }, 'Close')),
    list);
  let current: Run | undefined;
  let pending: ReturnType<typeof setTimeout> | undefined;

  const load = async () => {
    if (!current) return;
    const runId = current.id;
    try {
      const { logs } = await gql<{ logs: { edges: { node: LogEntry }[] } }>(Q.logs, { runId, first: 500 });
      if (current?.id !== runId) return;
      const entries = logs.edges.map((e) => e.node).reverse();
      replace(list, entries.length
        ? h('ol', null, entries.map((l) => h('li', { class: `log log-${l.level.toLowerCase()}` },
          h('time', { datetime: l.timestamp }, l.timestamp.slice(11, 23)),
          h('span', { class: 'level' }, l.level),
          h('span', { class: 'message' }, l.message))))
        : h('p', { class: 'muted' }, 'No log lines for this run yet.'));
    } catch (e) {
      replace(list, h('p', { class: 'notice notice-error', role: 'alert' }, messageOf(e)));
    }
  };

  return {
    el,
    async show(run) {
      current = run;
      heading.textContent = `Logs of the run ${formatInterval(run.intervalStart, run.intervalEnd)}`;
      el.hidden = false;
      replace(list, h('p', { class: 'muted' }, 'Loading…'));
      await load();
      heading.focus();
    },
    refreshIfShowing(runId) {
      if (current?.id !== runId || el.hidden) return;
      clearTimeout(pending);
      pending = setTimeout(() => void load(), 250);
    },
    runId: () => current?.id,
  };
}
