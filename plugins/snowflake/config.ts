import { z } from 'zod';
import type { Model } from '../../src/sdk';

const name = (what: string) =>
  z
    .string()
    .min(1, `${what} is required`)
    .max(255, `${what} is longer than 255 characters`)
    .refine((s) => !s.includes('\0'), `${what} must not contain NUL characters`);

const CASE_RULE =
  'Like Snowflake: a plain name (letters, digits, _ and $) is case-insensitive (stored in upper case); ' +
  'anything else, or a name wrapped in double quotes, is used exactly as written.';

export const snowflakeConfigSchema = z
  .object({
    account: z
      .string()
      .trim()
      .min(1, 'account is required')
      .regex(/^[A-Za-z0-9_.-]+$/, 'account must be an account identifier like `myorg-myaccount` or `xy12345.eu-west-1`')
      .describe('Account identifier: `<orgname>-<account_name>` or the legacy locator with region, `xy12345.eu-west-1`.'),
    user: z.string().min(1, 'user is required').describe(
      'User Outport logs in as. Its role needs USAGE on the warehouse, database and schema, CREATE TABLE on the schema ' +
        '(per-run staging table; the destination table on first use) and INSERT, UPDATE, SELECT on the destination table.',
    ),
    password: z.string().min(1).optional().describe('Password of the user. Set this or `private_key`. Stored encrypted, never returned.'),
    private_key: z
      .string()
      .min(1)
      .optional()
      .describe('PEM private key (PKCS#8 or PKCS#1, optionally encrypted) for key-pair authentication. Set this or `password`. Stored encrypted.'),
    private_key_passphrase: z.string().min(1).optional().describe('Passphrase of an encrypted `private_key`. Stored encrypted.'),
    warehouse: name('warehouse').describe('Warehouse that runs the COPY and MERGE statements, e.g. `COMPUTE_WH`. It must exist; let it auto-resume.'),
    database: name('database').describe(`Database of the destination table, e.g. \`ANALYTICS\`. It must exist. ${CASE_RULE}`),
    schema: name('schema').default('PUBLIC').describe(`Schema of the destination table. It must exist. Default: PUBLIC. ${CASE_RULE}`),
    table_name: name('table_name')
      .optional()
      .describe(`Destination table. Default: the model name in upper case (EVENTS, PERSONS, SESSIONS). Created when missing. ${CASE_RULE}`),
    role: z.string().min(1).optional().describe("Role to use. Default: the user's default role."),
    access_url: z
      .url({ protocol: /^https?$/, error: 'access_url must be an http(s) URL' })
      .optional()
      .describe('Full URL of the Snowflake endpoint, for private link (https://<account>.privatelink.snowflakecomputing.com). Default: derived from account.'),
  })
  .superRefine((c, ctx) => {
    if (c.password !== undefined && c.private_key !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['private_key'], message: 'Set either password or private_key, not both' });
    }
    if (c.password === undefined && c.private_key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'Set password or private_key (key-pair authentication)' });
    }
    if (c.private_key !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(c.private_key)) {
      ctx.addIssue({ code: 'custom', path: ['private_key'], message: 'private_key must be a PEM private key (-----BEGIN PRIVATE KEY-----)' });
    }
    if (c.private_key_passphrase !== undefined && c.private_key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['private_key_passphrase'], message: 'private_key_passphrase is only used with private_key' });
    }
  });

export type SnowflakeConfig = z.output<typeof snowflakeConfigSchema>;

export function tableFor(config: SnowflakeConfig, model: Model): string {
  return config.table_name ?? model.toUpperCase();
}
