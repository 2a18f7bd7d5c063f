/**
 * Renders a destination plugin's config JSON Schema as form fields. The schema is the documentation: a field's
 * `title` (else its key, humanised) is the label, its description (inline Markdown) the help text, `enum` a select, `writeOnly`/`x-secret` fields become masked inputs
 * that are never pre-filled (the API returns them as "********"; leaving them empty keeps the stored value).
 * Anything the form cannot render natively (objects, arrays, unions) is edited as JSON.
 */
import { h, uid } from '../dom';
import { inlineMarkdown, plainMarkdown } from '../markdown';
import type { JsonSchema } from '../queries';
import { field, formErrors } from './ui';

export interface SchemaForm {
  el: HTMLElement;
  /**
   * The config to send, or undefined after marking every field that is wrong (required and empty, not a number,
   * not JSON) under that field.
   */
  values(): Record<string, unknown> | undefined;
  /** Error slots of the fields, addressed by API path (`config.port`). */
  errors: ReturnType<typeof formErrors>;
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

/** Words written in capitals wherever they appear in a key (`ssl_mode` reads "SSL mode", `s3_prefix` "S3 prefix"). */
const ACRONYMS = new Set(['id', 'ids', 'url', 'uri', 'ssl', 'tls', 'ca', 'aws', 's3', 'gcs', 'kms', 'sse', 'iam', 'arn', 'kb', 'mb', 'gb',
  'json', 'jsonl', 'ndjson', 'csv', 'sql', 'http', 'https', 'api', 'ip', 'dns', 'tcp', 'pem', 'uuid', 'utc', 'ttl', 'jwt', 'sso', 'db']);

/** Field names are snake_case or camelCase config keys; labels read better as words, acronyms kept. */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[\s_-]+/).filter(Boolean)
    .map((w) => (ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : w.toLowerCase()));
  if (!words.length) return key;
  words[0] = words[0].charAt(0).toUpperCase() + words[0].slice(1);
  return words.join(' ');
}

/** The label of a config field: the schema's `title`, else the key humanised. */
export const labelOf = (key: string, prop: JsonSchema) => (typeof prop.title === 'string' && prop.title.trim() ? plainMarkdown(prop.title.trim()) : humanize(key));

export function schemaForm(schema: JsonSchema, initial: Record<string, unknown> | undefined, mode: 'create' | 'edit'): SchemaForm {
  const required = new Set(schema.required ?? []);
  const props = Object.entries(schema.properties ?? {});
  const controls = new Map<string, { kind: Kind; input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement; prop: JsonSchema; label: string; required: boolean }>();
  const fields: HTMLElement[] = [];
  const errors = formErrors('config');

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
    // Required secrets are not required on edit: empty keeps the stored value. A default makes a field optional.
    const isRequired = required.has(key) && !(isSecret && mode === 'edit') && kind !== 'checkbox' && prop.default === undefined;
    if (isRequired) input.required = true;
    const label = labelOf(key, prop);
    const wrapper = field(label + (isSecret ? ' (secret)' : '') + (kind === 'json' ? ' (JSON)' : ''), input,
      prop.description ? inlineMarkdown(prop.description) : undefined, { required: isRequired });
    if (kind === 'checkbox') wrapper.classList.add('field-checkbox');
    errors.add(key, wrapper, input);
    fields.push(wrapper);
    controls.set(key, { kind, input, prop, label, required: isRequired });
  }

  return {
    el: h('fieldset', { class: 'schema-form' }, h('legend', null, 'Settings'), ...fields),
    errors,
    values() {
      errors.clear();
      const out: Record<string, unknown> = {};
      let ok = true;
      const wrong = (key: string, message: string) => {
        errors.show(key, message);
        ok = false;
      };
      for (const [key, { kind, input, prop, label, required: isRequired }] of controls) {
        if (kind === 'checkbox') {
          out[key] = (input as HTMLInputElement).checked;
          continue;
        }
        const raw = input.value;
        if (raw.trim() === '') {
          if (isRequired) wrong(key, `${label} is required`);
          continue; // the plugin's default applies, or (secrets on edit) the stored value stays
        }
        if (kind === 'number') {
          const n = Number(raw);
          if (!Number.isFinite(n) || (prop.type === 'integer' && !Number.isInteger(n))) wrong(key, `${label} must be ${prop.type === 'integer' ? 'a whole number' : 'a number'}`);
          else out[key] = n;
        } else if (kind === 'json') {
          try {
            out[key] = JSON.parse(raw);
          } catch {
            wrong(key, `${label} is not valid JSON`);
          }
        } else out[key] = raw;
      }
      return ok ? out : undefined;
    },
  };
}
