import { z } from 'zod';
import type { Model } from '../../src/sdk';
import { identifierProblem } from './identifiers';

const identifier = (what: string) =>
  z.string().superRefine((name, ctx) => {
    const problem = identifierProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: `${what} ${problem}` });
  });

export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export const postgresConfigSchema = z
  .object({
    host: z.string().trim().min(1, 'host is required').describe('Host name or IP address of the Postgres server.'),
    port: z.number().int().min(1).max(65535).default(5432).describe('TCP port of the Postgres server. Default: 5432.'),
    database: identifier('database').describe('Database to write to. It must exist.'),
    user: z.string().min(1, 'user is required').describe(
      'Role Outport connects as. It needs CREATE on the schema (for the per-run staging table and, on first use, the ' +
        'destination table) and INSERT, UPDATE and SELECT on the destination table.',
    ),
    password: z.string().describe('Password of the role. Stored encrypted, never returned by the API.'),
    schema: identifier('schema').default('public').describe('Schema that holds the destination table. It must exist. Default: public.'),
    table_name: identifier('table_name')
      .optional()
      .describe('Destination table. Default: the model name (`events`, `persons`, `sessions`). Created when missing.'),
    ssl_mode: z
      .enum(SSL_MODES)
      .default('disable')
      .describe(
        'TLS to the server. `disable`: plain TCP. `require`: encrypted, certificate not checked (self-signed accepted). ' +
          '`verify-ca`: encrypted, certificate must be signed by `ssl_ca_certificate`. `verify-full`: as verify-ca ' +
          '(or the system CAs when no certificate is given) and the certificate must name `host`. Default: disable.',
      ),
    ssl_ca_certificate: z
      .string()
      .optional()
      .describe('PEM certificate(s) of the CA that signed the server certificate. Required for verify-ca.'),
    connect_timeout_seconds: z
      .number()
      .int()
      .min(1)
      .max(300)
      .default(10)
      .describe('Seconds to wait for a connection before the attempt fails (and is retried). Default: 10.'),
  })
  .superRefine((c, ctx) => {
    if (c.ssl_mode === 'verify-ca' && !c.ssl_ca_certificate) {
      ctx.addIssue({ code: 'custom', path: ['ssl_ca_certificate'], message: 'ssl_mode verify-ca needs ssl_ca_certificate (the PEM of the CA)' });
    }
    if (c.ssl_ca_certificate !== undefined && !c.ssl_ca_certificate.includes('-----BEGIN CERTIFICATE-----')) {
      ctx.addIssue({ code: 'custom', path: ['ssl_ca_certificate'], message: 'ssl_ca_certificate must be a PEM certificate (-----BEGIN CERTIFICATE-----)' });
    }
  });

export type PostgresConfig = z.output<typeof postgresConfigSchema>;

export function tableFor(config: PostgresConfig, model: Model): string {
  return config.table_name ?? model;
}
