import { z } from 'zod';
import type { Model } from '../../src/sdk';
import { checkPgWireFields, pgWireFields } from '../../src/sdk/pgwire';
import { REDSHIFT_IDENTIFIERS } from './identifiers';

export { SSL_MODES } from '../../src/sdk/pgwire';

export const PROPERTIES_DATA_TYPES = ['varchar', 'super'] as const;
export const WRITE_MODES = ['insert', 'copy'] as const;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Key prefixes go into COPY's `'s3://...'` literal: no quotes, backslashes or spaces. */
const S3_PREFIX = /^[A-Za-z0-9!_.*()/=-]*$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]+$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const SECRET_ACCESS_KEY = /^[A-Za-z0-9/+=]{16,128}$/;

const TRUNCATION_RULE =
  'Values over Redshift\'s 65,535-byte VARCHAR limit: text columns are cut at a UTF-8 character boundary to 65,535 ' +
  'bytes; a JSON value longer than 65,535 bytes is replaced by {"$outport_truncated": true, "original_bytes": N}. ' +
  'Both are counted and logged as a warning for the run.';

export const redshiftConfigSchema = z
  .object({
    ...pgWireFields({
      identifiers: REDSHIFT_IDENTIFIERS,
      defaultPort: 5439,
      defaultSslMode: 'require',
      describe: {
        host: 'Cluster or workgroup endpoint, e.g. examplecluster.abc123.us-east-1.redshift.amazonaws.com.',
        port: 'TCP port of the cluster. Default: 5439.',
        user:
          'User Outport connects as. It needs CREATE on the schema (per-run staging table and, on first use, the destination ' +
          'table) and SELECT, INSERT, DELETE on the destination table.',
        password: 'Password of the user. Stored encrypted, never returned by the API.',
        ssl_mode:
          'TLS to the cluster. `disable`: plain TCP. `require`: encrypted, certificate not checked. `verify-ca`: certificate ' +
          'must be signed by `ssl_ca_certificate`. `verify-full`: as verify-ca (or the system CAs) and the certificate must ' +
          'name `host`. Default: require.',
        ssl_ca_certificate: 'PEM certificate(s) of the CA (e.g. the Amazon Redshift CA bundle). Required for verify-ca.',
      },
    }),
    properties_data_type: z
      .enum(PROPERTIES_DATA_TYPES)
      .default('varchar')
      .describe(
        'Column type of the JSON columns (properties, person_properties, set, set_once): `varchar` = VARCHAR(65535) ' +
          'holding the JSON text, `super` = SUPER holding the parsed document (query it with PartiQL). ' + TRUNCATION_RULE +
          ' The marker applies to SUPER too: JSON_PARSE and COPY take a VARCHAR value. Default: varchar.',
      ),
    mode: z
      .enum(WRITE_MODES)
      .default('insert')
      .describe(
        'How rows reach the staging table. `insert`: multi-row INSERT statements (each under the 16 MB statement limit); ' +
          'no S3 needed, fine up to a few hundred thousand rows per run. `copy`: gzip JSON Lines files uploaded to ' +
          '`s3_bucket`, loaded with COPY (much faster for large runs) and deleted afterwards. Default: insert.',
      ),
    s3_bucket: z.string().optional().describe('copy mode: bucket the load files are staged in. Must be readable by the cluster.'),
    s3_region: z.string().regex(/^[a-z0-9-]*$/, 'a region such as us-east-1').default('').describe(
      'copy mode: region of s3_bucket. Empty: the default AWS region for uploads and the cluster\'s region for COPY.',
    ),
    s3_prefix: z.string().regex(S3_PREFIX, 'letters, digits and ! _ . * ( ) / = - only').default('')
      .describe('copy mode: key prefix for the staged files (each run writes under <prefix>/outport-redshift/<run>/ and removes them).'),
    aws_access_key_id: z.string().regex(ACCESS_KEY_ID, 'an AWS access key id (upper-case letters and digits)').optional()
      .describe('copy mode: access key used to upload the files and, unless iam_role is set, by COPY to read them.'),
    aws_secret_access_key: z.string().regex(SECRET_ACCESS_KEY, 'an AWS secret access key').optional()
      .describe('copy mode: secret of aws_access_key_id. Stored encrypted, never returned.'),
    iam_role: z.string().regex(IAM_ROLE_ARN, 'an IAM role ARN such as arn:aws:iam::123456789012:role/RedshiftCopy').optional()
      .describe(
        'copy mode: ARN of a role attached to the cluster that may read s3_bucket; COPY uses it instead of the access ' +
          'keys. Without keys, uploads use the server\'s default AWS credentials.',
      ),
    s3_endpoint_url: z.string().url().optional()
      .describe('copy mode: endpoint for Outport\'s uploads (a VPC endpoint or an S3-compatible server). COPY always reads s3://s3_bucket.'),
  })
  .superRefine((c, ctx) => {
    checkPgWireFields(c, ctx);
    if (!c.aws_access_key_id !== !c.aws_secret_access_key) {
      ctx.addIssue({
        code: 'custom',
        path: [c.aws_access_key_id ? 'aws_secret_access_key' : 'aws_access_key_id'],
        message: 'set both aws_access_key_id and aws_secret_access_key, or neither',
      });
    }
    if (c.mode !== 'copy') return;
    if (!c.s3_bucket) ctx.addIssue({ code: 'custom', path: ['s3_bucket'], message: 'copy mode needs s3_bucket' });
    else if (!BUCKET_NAME.test(c.s3_bucket)) {
      ctx.addIssue({ code: 'custom', path: ['s3_bucket'], message: 'an S3 bucket name: lower-case letters, digits, dots and hyphens, 3 to 63 characters' });
    }
    if (!c.iam_role && !c.aws_access_key_id) {
      ctx.addIssue({ code: 'custom', path: ['iam_role'], message: 'copy mode needs iam_role or aws_access_key_id + aws_secret_access_key for COPY to read the files' });
    }
  });

export type RedshiftConfig = z.output<typeof redshiftConfigSchema>;

export function tableFor(config: RedshiftConfig, model: Model): string {
  return config.table_name ?? model;
}
