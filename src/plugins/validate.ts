/**
 * Structural validation of a plugin module's export. Plugins come from folders and npm packages we did not
 * write, so the host checks the shape before trusting it, and says exactly what is wrong.
 */
import { CONTRACT_VERSION, MODELS, type DestinationPlugin } from '../sdk';
import { configJsonSchema } from './json-schema';

export const PLUGIN_ID_PATTERN = /^[a-z][a-z0-9-]{1,40}$/;

/** The object shape of a zod object schema, when the config schema is one. */
export function schemaShape(schema: unknown): Record<string, unknown> | undefined {
  const shape = (schema as { shape?: unknown })?.shape;
  return shape && typeof shape === 'object' ? (shape as Record<string, unknown>) : undefined;
}

/** Every problem with `candidate` as a DestinationPlugin; empty when it is valid. */
export function pluginProblems(candidate: unknown): string[] {
  if (typeof candidate !== 'object' || candidate === null) {
    return ['the module does not export a plugin object (expected `export default defineDestination({...})`)'];
  }
  const p = candidate as Partial<Record<keyof DestinationPlugin, unknown>>;
  const problems: string[] = [];
  const requireFunction = (name: string, v: unknown) => {
    if (typeof v !== 'function') problems.push(`${name} must be a function`);
  };

  if (typeof p.id !== 'string' || !PLUGIN_ID_PATTERN.test(p.id)) {
    problems.push(`id ${JSON.stringify(p.id)} must match ${PLUGIN_ID_PATTERN} (lower-case letters, digits and "-")`);
  }
  if (typeof p.displayName !== 'string' || p.displayName.trim() === '') problems.push('displayName must be a non-empty string');
  if (p.description !== undefined && typeof p.description !== 'string') problems.push('description must be a string when set');
  if (p.contractVersion !== CONTRACT_VERSION) {
    problems.push(`contractVersion is ${JSON.stringify(p.contractVersion)}, this Outport supports ${CONTRACT_VERSION} (build it with defineDestination from this version's outport/sdk)`);
  }
  const schema = p.configSchema as { safeParse?: unknown } | undefined;
  if (typeof schema?.safeParse !== 'function') problems.push('configSchema must be a zod schema (it has no safeParse)');
  else {
    try {
      configJsonSchema(schema, []);
    } catch (err) {
      problems.push(`configSchema cannot be described as JSON Schema (build it with zod 4): ${(err as Error).message}`);
    }
  }
  if (!Array.isArray(p.secretFields) || p.secretFields.some((f) => typeof f !== 'string')) {
    problems.push('secretFields must be an array of field names');
  } else if (p.secretFields.length > 0) {
    const shape = schemaShape(schema);
    if (!shape) problems.push('secretFields are set but configSchema is not a z.object, so they cannot be checked');
    else {
      const unknown = p.secretFields.filter((f: string) => !Object.hasOwn(shape, f));
      if (unknown.length) problems.push(`secretFields ${JSON.stringify(unknown)} are not fields of configSchema`);
    }
  }
  if (!Array.isArray(p.models) || p.models.length === 0) problems.push(`models must be a non-empty array of ${JSON.stringify(MODELS)}`);
  else {
    const bad = p.models.filter((m) => !MODELS.includes(m));
    if (bad.length) problems.push(`models ${JSON.stringify(bad)} are not models Outport exports (${MODELS.join(', ')})`);
    if (new Set(p.models).size !== p.models.length) problems.push('models lists a model twice');
  }
  const caps = p.capabilities as Record<string, unknown> | undefined;
  if (typeof caps !== 'object' || caps === null) problems.push('capabilities must be an object ({ merge: boolean, ... })');
  else {
    if (typeof caps.merge !== 'boolean') problems.push('capabilities.merge must be a boolean');
    if (caps.formats !== undefined && (!Array.isArray(caps.formats) || caps.formats.some((f) => typeof f !== 'string'))) {
      problems.push('capabilities.formats must be an array of strings when set');
    }
    const c = caps.suggestedConcurrency;
    if (c !== undefined && !(Number.isInteger(c) && (c as number) > 0)) problems.push('capabilities.suggestedConcurrency must be a positive integer when set');
  }
  requireFunction('testConnection', p.testConnection);
  requireFunction('write', p.write);
  if (p.classifyError !== undefined) requireFunction('classifyError', p.classifyError);
  return problems;
}
