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

/** A labelled field: label, control, optional help text (text or nodes) tied with aria-describedby. */
export function field(labelText: string, control: HTMLElement, help?: string | Node[], opts: { required?: boolean } = {}): HTMLElement {
  const id = control.id || uid('f');
  control.id = id;
  let helpEl: HTMLElement | undefined;
  if (help && help.length) {
    helpEl = h('small', { id: `${id}-help`, class: 'help' }, help);
    control.setAttribute('aria-describedby', helpEl.id);
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, labelText, opts.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    control,
    helpEl,
  );
}

export interface FieldIssue {
  /** Path as the API names it (`input.config.host`, `input.filters.0.operator`). */
  field: string | undefined;
  message: string;
}

/**
 * The issues of an API error, one per field: the API answers BAD_USER_INPUT with one error per bad field, each
 * naming it in `extensions.field` and starting its message with that path (dropped here: the form shows the
 * message under the field).
 */
export function fieldIssues(e: unknown): FieldIssue[] {
  if (!(e instanceof ApiError)) return [{ field: undefined, message: messageOf(e) }];
  const issues = e.issues.length ? e.issues : [{ message: e.message, field: e.field }];
  return issues.map(({ field, message }) => ({ field, message: field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message }));
}

/**
 * Error slots under the fields of a form, addressed by API path without its root (`host` for `config.host`,
 * `filters.0.operator` for `input.filters.0.operator`). An issue goes to the deepest registered slot on its path.
 */
export function formErrors(root: string) {
  const slots = new Map<string, { control: HTMLElement; error: HTMLElement }>();
  const key = (path: string) => (path.startsWith(`${root}.`) ? path.slice(root.length + 1) : path === root ? '' : path);
  const api = {
    /** Adds an error slot to a field wrapper made by `field()`; `control` gets aria-invalid. */
    add(path: string, wrapper: HTMLElement, control: HTMLElement): void {
      const error = h('small', { class: 'field-error', id: `${control.id || uid('f')}-error`, 'aria-live': 'polite' });
      wrapper.append(error);
      slots.set(path, { control, error });
    },
    remove(prefix: string): void {
      for (const k of [...slots.keys()]) if (k === prefix || k.startsWith(`${prefix}.`)) slots.delete(k);
    },
    clear(): void {
      for (const { control, error } of slots.values()) {
        error.textContent = '';
        control.removeAttribute('aria-invalid');
        control.removeAttribute('aria-errormessage');
      }
    },
    /** Shows one issue under its field; false when no field of the form matches its path. */
    show(path: string | undefined, message: string): boolean {
      if (path === undefined) return false;
      const parts = key(path).split('.');
      for (let n = parts.length; n > 0; n--) {
        const slot = slots.get(parts.slice(0, n).join('.'));
        if (!slot) continue;
        slot.error.textContent = slot.error.textContent ? `${slot.error.textContent}; ${message}` : message;
        slot.control.setAttribute('aria-invalid', 'true');
        slot.control.setAttribute('aria-errormessage', slot.error.id);
        return true;
      }
      return false;
    },
    /** Shows every issue of an API error under its field; returns the issues no field took. Focuses the first. */
    showError(e: unknown): FieldIssue[] {
      api.clear();
      const left = fieldIssues(e).filter((i) => !api.show(i.field, i.message));
      const first = [...slots.values()].find((s) => s.control.getAttribute('aria-invalid') === 'true');
      first?.control.focus();
      return left;
    },
  };
  return api;
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
