/**
 * Renders a destination plugin's config JSON Schema as form fields. The schema is the documentation: field
 * descriptions become help text, `enum` becomes a select, `writeOnly`/`x-secret` fields become masked inputs
 * that are never pre-filled (the API returns them as "********"; leaving them empty keeps the stored value).
 * Anything the form cannot render natively (objects, arrays, unions) is edited as JSON.
 */
import { h, uid } from '../dom';
import type { JsonSchema } from '../queries';
import { field } from './ui';

export interface SchemaForm {
  el: HTMLElement;
  /** The config to send, or throws with a message naming the field that is wrong. */
  values(): Record<string, unknown>;
  /** Marks a field invalid (from an API error's `field`, e.g. `config.port`); false when there is no such field. */
  markInvalid(path: string | undefined, message: string): boolean;
}

type Kind = 'select' | 'checkbox' | 'number' | 'secret' | 'secret-multiline' | 'text' | 'url' | 'multiline' | 'json';

function kindOf(prop: JsonSchema): Kind {
  const secret = prop.writeOnly === true || prop['x-secret'] === true;
  const multiline = /PEM|\(JSON\)|certificate/i.test(prop.description ?? '');
  const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type;
  if (prop.enum && (type === 'string' || type === undefined)) return 'select';
  if (type === 'boolean') return 'checkbox';
  if (type === 'integer' || type === 'number') return 'number';
  if (type === 'string') {
    if (secret) return multiline ? 'secret-multiline' : 'secret';
    if (multiline) return 'multiline';
    return prop.format === 'uri' ? 'url' : 'text';
  }
  return 'json';
}

/** Field names are snake_case config keys; labels read better as words. */
export function humanize(key: string): string {
  const words = key.replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1)
    .replace(/\b(id|url|ssl|ca|aws|kms|mb|json|tls)\b/g, (w) => w.toUpperCase());
}

export function schemaForm(schema: JsonSchema, initial: Record<string, unknown> | undefined, mode: 'create' | 'edit'): SchemaForm {
  const required = new Set(schema.required ?? []);
  const props = Object.entries(schema.properties ?? {});
  const controls = new Map<string, { kind: Kind; input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement; prop: JsonSchema; error: HTMLElement }>();
  const fields: HTMLElement[] = [];

  for (const [key, prop] of props) {
    const kind = kindOf(prop);
    const isSecret = kind === 'secret' || kind === 'secret-multiline';
    const current = isSecret ? undefined : (initial?.[key] ?? (mode === 'create' ? prop.default : undefined));
    const id = uid(`cfg-${key}`);
    let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    switch (kind) {
      case 'select':
        input = h('select', { id, name: key },
          required.has(key) || prop.default !== undefined ? null : h('option', { value: '' }, '(not set)'),
          ...(prop.enum ?? []).map((v) => h('option', { value: String(v), selected: String(v) === String(current ?? '') }, String(v))));
        break;
      case 'checkbox':
        input = h('input', { id, name: key, type: 'checkbox', checked: current === true });
        break;
      case 'number':
        input = h('input', {
          id, name: key, type: 'number', inputmode: prop.type === 'integer' ? 'numeric' : 'decimal',
          step: prop.type === 'integer' ? 1 : 'any', min: prop.minimum, max: prop.maximum, value: current === undefined ? '' : String(current),
        });
        break;
      case 'secret':
        input = h('input', { id, name: key, type: 'password', autocomplete: 'new-password', placeholder: mode === 'edit' ? 'unchanged — type to replace' : '' });
        break;
      case 'secret-multiline':
        input = h('textarea', { id, name: key, rows: 4, class: 'masked', autocomplete: 'off', spellcheck: 'false', placeholder: mode === 'edit' ? 'unchanged — paste to replace' : '' });
        break;
      case 'multiline':
        input = h('textarea', { id, name: key, rows: 4, spellcheck: 'false', value: current === undefined ? '' : String(current) });
        break;
      case 'json':
        input = h('textarea', { id, name: key, rows: 3, spellcheck: 'false', class: 'mono', value: current === undefined ? '' : JSON.stringify(current, null, 2) });
        break;
      default:
        input = h('input', {
          id, name: key, type: kind === 'url' ? 'url' : 'text', autocomplete: 'off', spellcheck: 'false',
          maxlength: prop.maxLength, value: current === undefined ? '' : String(current),
        });
    }
    // Required secrets are not required on edit: empty keeps the stored value.
    if (required.has(key) && !(isSecret && mode === 'edit') && kind !== 'checkbox') input.required = true;
    const error = h('small', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
    const label = humanize(key) + (isSecret ? ' (secret)' : '') + (kind === 'json' ? ' (JSON)' : '');
    const wrapper = field(label, input, prop.description, { required: required.has(key) && !(isSecret && mode === 'edit') });
    if (kind === 'checkbox') wrapper.classList.add('field-checkbox');
    wrapper.append(error);
    fields.push(wrapper);
    controls.set(key, { kind, input, prop, error });
  }

  const clearErrors = () => {
    for (const c of controls.values()) {
      c.error.textContent = '';
      c.input.removeAttribute('aria-invalid');
    }
  };

  return {
    el: h('fieldset', { class: 'schema-form' }, h('legend', null, 'Settings'), ...fields),
    values() {
      clearErrors();
      const out: Record<string, unknown> = {};
      for (const [key, { kind, input, prop }] of controls) {
        if (kind === 'checkbox') {
          out[key] = (input as HTMLInputElement).checked;
          continue;
        }
        const raw = input.value;
        if (raw.trim() === '') continue; // the plugin's default applies, or (secrets on edit) the stored value stays
        if (kind === 'number') {
          const n = Number(raw);
          if (!Number.isFinite(n) || (prop.type === 'integer' && !Number.isInteger(n))) {
            throw fieldError(this, key, `${humanize(key)} must be ${prop.type === 'integer' ? 'a whole number' : 'a number'}`);
          }
          out[key] = n;
        } else if (kind === 'json') {
          try {
            out[key] = JSON.parse(raw);
          } catch {
            throw fieldError(this, key, `${humanize(key)} is not valid JSON`);
          }
        } else out[key] = raw;
      }
      return out;
    },
    markInvalid(path, message) {
      const key = path?.replace(/^config\./, '').split('.')[0];
      const c = key ? controls.get(key) : undefined;
      if (!c) return false;
      c.error.textContent = message;
      c.input.setAttribute('aria-invalid', 'true');
      c.input.setAttribute('aria-errormessage', c.error.id);
      c.input.focus();
      return true;
    },
  };
}

function fieldError(form: SchemaForm, key: string, message: string): Error {
  form.markInvalid(key, message);
  return new Error(message);
}
