/**
 * PostHog-compatible layout (issue 14 item 4): an export in layout POSTHOG writes the events columns PostHog's batch
 * exports write to the same kind of destination, with the same names, so Outport can take over a table PostHog
 * created and keep filling it. It is a predefined field selection (fields.ts), chosen per destination kind at run
 * time, so it follows the export when its destination changes.
 *
 * Values are filled the way PostHog fills them: `elements` is elements_chain as a JSON string, `ip` is
 * properties.$ip, `site_url` is always '', `set`/`set_once` are properties.$set/$set_once, BigQuery's
 * `bq_ingested_timestamp` is when the run read the row. Persons and sessions already have PostHog's columns, so the
 * layout changes nothing for them.
 *
 * File destinations get PostHog's S3 columns plus team_id (last): Outport's events key is (team_id, uuid).
 */
import type { FieldSelection } from './fields';
import type { Model } from '../sdk/models';

export type ExportLayout = 'OUTPORT' | 'POSTHOG';
export const EXPORT_LAYOUTS: readonly ExportLayout[] = ['OUTPORT', 'POSTHOG'];

type Types = Partial<Record<string, readonly string[]>>;
/** Field `source` (or its alias) -> the types PostHog's own DDL gives it at one destination kind. */
const withTypes = (selection: FieldSelection[], types: Types): FieldSelection[] =>
  selection.map((f) => {
    const t = types[f.alias ?? f.source];
    return t ? { ...f, tableTypes: t } : f;
  });

const column = (source: string, alias?: string): FieldSelection => (alias ? { source, alias } : { source });
const elements: FieldSelection = { source: 'elements_chain', alias: 'elements', derived: 'json_text' };
const ip = column('properties.$ip', 'ip');
const siteUrl: FieldSelection = { source: '', alias: 'site_url', derived: 'empty_string' };

/** PostHog's Postgres/Redshift events table: uuid, event, properties, elements, set, set_once, distinct_id, team_id, ip, site_url, timestamp. */
const TABLE_EVENTS: FieldSelection[] = [
  column('uuid'), column('event'), column('properties'), elements, column('set'), column('set_once'),
  column('distinct_id'), column('team_id'), ip, siteUrl, column('timestamp'),
];

const VARCHAR_200 = ['character varying(200)'];
/** PostHog's Postgres DDL: VARCHAR(200) texts, JSONB documents, INTEGER team_id, TIMESTAMPTZ timestamp. */
const POSTGRES_TYPES: Types = { uuid: VARCHAR_200, event: VARCHAR_200, distinct_id: VARCHAR_200, ip: VARCHAR_200, site_url: VARCHAR_200, team_id: ['integer'] };
/**
 * PostHog's Redshift DDL: as Postgres, documents in VARCHAR(65535) or SUPER. The Redshift plugin reads types from
 * information_schema (no lengths), where its own VARCHAR columns already match and properties_data_type picks the
 * document type: only INTEGER team_id differs.
 */
const REDSHIFT_TYPES: Types = { team_id: ['integer'] };

const POSTHOG_EVENTS: Record<string, FieldSelection[]> = {
  postgres: withTypes(TABLE_EVENTS, POSTGRES_TYPES),
  redshift: withTypes(TABLE_EVENTS, REDSHIFT_TYPES),
  bigquery: [...TABLE_EVENTS, { source: '', alias: 'bq_ingested_timestamp', derived: 'export_time' }],
  // Snowflake's TIMESTAMP is TIMESTAMP_NTZ unless the account maps it otherwise; the values are UTC either way.
  snowflake: withTypes([
    column('uuid'), column('event'), column('properties'), elements, column('set', 'people_set'), column('set_once', 'people_set_once'),
    column('distinct_id'), column('team_id'), ip, siteUrl, column('timestamp'),
  ], { timestamp: ['TIMESTAMP_NTZ(9)'] }),
  s3: [
    column('uuid'), column('timestamp'), column('_inserted_at'), column('created_at'), column('event'), column('properties'),
    column('distinct_id'), column('elements_chain'), column('person_properties'), column('person_id'), column('team_id'),
  ],
};
POSTHOG_EVENTS['local-files'] = POSTHOG_EVENTS.s3;

/** Destination kinds PostHog has an events layout for. */
export const POSTHOG_LAYOUT_DESTINATIONS = Object.keys(POSTHOG_EVENTS);

/**
 * The fields an export writes: its own selection in layout OUTPORT; PostHog's columns for its destination kind in
 * layout POSTHOG (undefined: the model's own columns).
 */
export function layoutFields(layout: ExportLayout | null | undefined, model: Model, destinationType: string, fields: FieldSelection[] | null | undefined): FieldSelection[] | undefined {
  if (layout !== 'POSTHOG') return fields?.length ? fields : undefined;
  if (model !== 'events') return undefined;
  const selection = POSTHOG_EVENTS[destinationType];
  if (!selection) throw new Error(`layout POSTHOG has no events columns for ${destinationType} destinations (it has them for ${POSTHOG_LAYOUT_DESTINATIONS.join(', ')}): use layout OUTPORT`);
  return selection.map((f) => ({ ...f }));
}

/** Why an export cannot use layout POSTHOG (null when it can). */
export function posthogLayoutProblem(destinationType: string, fields: FieldSelection[] | null | undefined, hasCustomQuery: boolean): string | null {
  if (hasCustomQuery) return 'layout POSTHOG writes PostHog\'s events columns; a custom query chooses its own: use layout OUTPORT';
  if (fields?.length) return 'layout POSTHOG chooses the columns (PostHog\'s for the destination): leave fields out, or use layout OUTPORT';
  if (!POSTHOG_EVENTS[destinationType]) return `layout POSTHOG has no events columns for ${destinationType} destinations (it has them for ${POSTHOG_LAYOUT_DESTINATIONS.join(', ')}): use layout OUTPORT`;
  return null;
}
