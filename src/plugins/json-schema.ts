/** A plugin's config schema as JSON Schema, for the API's catalog and for forms. */
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema (draft 2020-12) of what users may SEND: the input side of the zod schema, so fields with
 * `.default()` are optional. Secret fields are marked `"writeOnly": true` and `"x-secret": true` so a form can
 * render them as password inputs and never expect them back. Throws when the schema is not a zod 4 schema.
 */
export function configJsonSchema(schema: unknown, secretFields: readonly string[]): JsonSchema {
  const json = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const properties = json.properties as Record<string, JsonSchema> | undefined;
  for (const field of secretFields) {
    if (properties?.[field]) properties[field] = { ...properties[field], writeOnly: true, 'x-secret': true };
  }
  return json;
}
