/**
 * The schema an export would write (columns, destination types, key and version columns) and a few real rows,
 * from `previewExportSchema`. The export form refreshes it as the data selection changes; a stale answer (one
 * asked for before the latest change) is dropped, so a slow preview never overwrites a newer one.
 */
import { gql } from '../api';
import { h, replace } from '../dom';
import { Q, type SchemaPreview } from '../queries';
import { fieldIssues } from './ui';

export interface PreviewRequest {
  model: string;
  fields: unknown[] | null;
  customQuery: Record<string, unknown> | null;
}

const cellText = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
};

function columnsTable(p: SchemaPreview): HTMLElement {
  const role = (name: string) => (p.key.includes(name) ? 'key' : p.versionColumns.includes(name) ? 'version' : '');
  return h('table', { class: 'schema-columns', 'aria-label': 'Columns written' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Column'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Nullable'), h('th', { scope: 'col' }, 'Role'))),
    h('tbody', null, p.columns.map((c) => h('tr', { 'data-column': c.name },
      h('td', null, h('code', null, c.name)), h('td', { 'data-type': c.type.toLowerCase() }, c.type.toLowerCase()), h('td', null, c.nullable ? 'yes' : 'no'), h('td', null, role(c.name))))));
}

function rowsTable(p: SchemaPreview): HTMLElement {
  if (!p.rows.length) return h('p', { class: 'muted', 'data-preview-rows': 0 }, 'No rows in the last day to show.');
  return h('div', { class: 'table-scroll' },
    h('table', { class: 'schema-rows', 'aria-label': 'Sample rows', 'data-preview-rows': p.rows.length },
      h('thead', null, h('tr', null, p.columns.map((c) => h('th', { scope: 'col' }, c.name)))),
      h('tbody', null, p.rows.map((r) => h('tr', null, p.columns.map((c) => h('td', null, cellText(r[c.name]))))))));
}

export function schemaPreview(): { el: HTMLElement; refresh(req: PreviewRequest): Promise<void> } {
  const body = h('div', { class: 'schema-preview-body', 'aria-live': 'polite' });
  const el = h('section', { class: 'schema-preview', 'aria-label': 'Schema preview' },
    h('h3', null, 'Schema preview'),
    h('p', { class: 'help' }, 'The columns and types this export writes, and up to 5 real rows of the last day, as destinations receive them.'),
    body);
  let asked = 0;
  return {
    el,
    async refresh(req) {
      const mine = ++asked;
      el.setAttribute('aria-busy', 'true');
      try {
        const { previewExportSchema: p } = await gql<{ previewExportSchema: SchemaPreview }>(Q.previewExportSchema, { ...req, rows: 5 });
        if (mine !== asked) return;
        replace(body, columnsTable(p), h('h4', null, 'Sample rows'), rowsTable(p));
      } catch (err) {
        if (mine !== asked) return;
        // The same checks as on save: the message names the field (`input.fields.1.alias`) to fix.
        replace(body, h('div', { class: 'notice notice-error', role: 'alert', 'data-preview-error': '' },
          fieldIssues(err).map((i) => h('p', null, i.field ? `${i.field.replace(/^input\./, '')}: ${i.message}` : i.message))));
      } finally {
        if (mine === asked) el.removeAttribute('aria-busy');
      }
    },
  };
}
