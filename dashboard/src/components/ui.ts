/** Small shared pieces: status badges, progress bars, buttons with busy state, form fields, notices. */
import { ApiError } from '../api';
import { h, uid } from '../dom';
import { statusLabel } from '../format';

export function statusBadge(status: string, label = statusLabel(status)): HTMLElement {
  return h('span', { class: `badge badge-${status.toLowerCase().replace(/_/g, '-')}` }, label);
}

/** A labelled native progress bar; `max` 0 or unknown shows an indeterminate bar. */
export function progressBar(value: number, max: number | null | undefined, label: string): HTMLElement {
  const known = !!max && max > 0;
  const pct = known ? Math.min(100, Math.round((value / max!) * 100)) : undefined;
  return h('div', { class: 'progress' },
    h('progress', { max: known ? max : undefined, value: known ? Math.min(value, max!) : undefined, 'aria-label': label }),
    h('span', { class: 'progress-text' }, known ? `${pct}%` : '…'),
  );
}

/**
 * A button that runs an async action, disabled while it runs; errors go to `onError` (a page's notice area).
 */
export function actionButton(text: string, action: () => Promise<unknown>, opts: { label?: string; class?: string; onError?: (e: unknown) => void; type?: string } = {}): HTMLButtonElement {
  const btn: HTMLButtonElement = h('button', {
    type: opts.type ?? 'button', class: opts.class, 'aria-label': opts.label,
    onclick: async () => {
      btn.disabled = true;
      btn.setAttribute('aria-busy', 'true');
      try {
        await action();
      } catch (e) {
        (opts.onError ?? showError)(e);
      } finally {
        btn.disabled = false;
        btn.removeAttribute('aria-busy');
      }
    },
  }, text);
  return btn;
}

/** A labelled field: label, control, optional help text tied with aria-describedby. */
export function field(labelText: string, control: HTMLElement, help?: string, opts: { required?: boolean } = {}): HTMLElement {
  const id = control.id || uid('f');
  control.id = id;
  let helpEl: HTMLElement | undefined;
  if (help) {
    helpEl = h('small', { id: `${id}-help`, class: 'help' }, help);
    control.setAttribute('aria-describedby', helpEl.id);
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, labelText, opts.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    control,
    helpEl,
  );
}

export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** One polite live region per page for errors and confirmations. */
export function notice(): { el: HTMLElement; error(e: unknown): void; ok(text: string): void; clear(): void } {
  const el = h('div', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    error(e) {
      el.className = 'notice notice-error';
      el.setAttribute('role', 'alert');
      el.textContent = messageOf(e);
    },
    ok(text) {
      el.className = 'notice notice-ok';
      el.setAttribute('role', 'status');
      el.textContent = text;
    },
    clear() {
      el.className = 'notice';
      el.textContent = '';
    },
  };
}

/** Fallback for actions without a page notice. */
export function showError(e: unknown): void {
  const toast = h('div', { class: 'toast', role: 'alert' }, messageOf(e));
  document.body.append(toast);
  setTimeout(() => toast.remove(), 6000);
}

export function pageHeader(title: string, ...actions: (HTMLElement | null)[]): HTMLElement {
  return h('div', { class: 'page-header' }, h('h1', null, title), h('div', { class: 'actions' }, ...actions));
}

export function loading(): HTMLElement {
  return h('p', { class: 'muted', role: 'status' }, 'Loading…');
}
