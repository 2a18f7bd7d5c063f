import { z } from 'zod';

/** The fields of a Google service-account key file that the plugin uses. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id: string;
  token_uri: string;
  project_id?: string;
}

const REQUIRED_KEY_FIELDS = ['private_key', 'private_key_id', 'client_email', 'token_uri'] as const;

/** Parses the key file text; returns the reason it is unusable instead of throwing, so zod can report it. */
export function parseServiceAccountKey(text: string): ServiceAccountKey | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'credentials_json is not valid JSON: paste the whole service-account key file';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return 'credentials_json must be a JSON object (the service-account key file)';
  }
  const key = parsed as Record<string, unknown>;
  const missing = REQUIRED_KEY_FIELDS.filter((f) => typeof key[f] !== 'string' || key[f] === '');
  if (missing.length) return `credentials_json is missing ${missing.join(', ')}: use a service-account key file (JSON)`;
  if (!String(key.private_key).includes('PRIVATE KEY')) return 'credentials_json.private_key is not a PEM private key';
  if (!/^https?:\/\//.test(String(key.token_uri))) return 'credentials_json.token_uri must be an http(s) URL';
  return key as unknown as ServiceAccountKey;
}

// BigQuery: dataset ids are letters, digits and underscores (max 1024); table ids allow more, but we keep to the
// portable subset so the generated SQL never needs escaping beyond backticks.
const identifier = (what: string) =>
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/, `${what} may contain only letters, digits and underscores`);

export const bigQueryConfigSchema = z.object({
  project_id: z
    .string()
    .regex(/^([a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'project_id is not a valid Google Cloud project id (6-30 lower-case letters, digits, hyphens)')
    .describe('Google Cloud project that owns the dataset and runs the load and query jobs.'),
  dataset_id: identifier('dataset_id').describe('Existing BigQuery dataset to write to. Outport does not create datasets.'),
  table_id: identifier('table_id')
    .optional()
    .describe('Table to write to. Default: the model name (`events`, `persons`, `sessions`). Created when missing.'),
  credentials_json: z
    .string()
    .superRefine((text, ctx) => {
      const key = parseServiceAccountKey(text);
      if (typeof key === 'string') ctx.addIssue({ code: 'custom', message: key });
    })
    .describe(
      'The service-account key file (JSON) as one string. Needs private_key, private_key_id, client_email and ' +
        'token_uri. The account needs roles BigQuery Data Editor on the dataset and BigQuery Job User on the project.',
    ),
  location: z
    .string()
    .min(1)
    .optional()
    .describe('Location of the dataset (`US`, `EU`, `europe-west1`). Default: the dataset\'s own location.'),
  use_json_type: z
    .boolean()
    .default(false)
    .describe('Store JSON columns (properties, set, ...) as BigQuery JSON instead of STRING. Default: false.'),
  load_job_size_mb: z
    .number()
    .positive()
    .max(10_240)
    .default(64) // LOAD_CHUNK_BYTES
    .describe(
      'Bytes of newline-delimited JSON per load job, in MiB; a run larger than this loads through several jobs, each cut ' +
        'at a line break. Larger jobs count less against BigQuery\'s load jobs per table per day; rows encoded by ' +
        'Outport itself (custom queries, field selections) hold one job\'s bytes in memory. Default: 64.',
    ),
  api_endpoint: z
    .string()
    .url()
    .optional()
    .describe('BigQuery API root, e.g. a private endpoint. Default: https://bigquery.googleapis.com.'),
});

export type BigQueryConfig = z.infer<typeof bigQueryConfigSchema>;
