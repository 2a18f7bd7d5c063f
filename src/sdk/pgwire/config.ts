/** zod fields for the connection and target settings every Postgres-wire destination has. */
import { z } from 'zod';
import { identifierField, type IdentifierLimit } from './identifiers';

export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** What differs between destinations: identifier limit, defaults, and descriptions naming their server. */
export interface PgWireFieldsOptions {
  identifiers: IdentifierLimit;
  defaultPort: number;
  defaultSslMode: SslMode;
  describe: Record<'host' | 'port' | 'user' | 'password' | 'ssl_mode' | 'ssl_ca_certificate', string>;
}

/**
 * host, port, database, user, password, schema, table_name, ssl_mode, ssl_ca_certificate and
 * connect_timeout_seconds, in that order; spread them into a destination's config object and call
 * `checkPgWireFields` from its `.superRefine`.
 */
export function pgWireFields(o: PgWireFieldsOptions) {
  const identifier = (what: string) => identifierField(what, o.identifiers);
  return {
    host: z.string().trim().min(1, 'host is required').describe(o.describe.host),
    port: z.number().int().min(1).max(65535).default(o.defaultPort).describe(o.describe.port),
    database: identifier('database').describe('Database to write to. It must exist.'),
    user: z.string().min(1, 'user is required').describe(o.describe.user),
    password: z.string().describe(o.describe.password),
    schema: identifier('schema').default('public').describe('Schema that holds the destination table. It must exist. Default: public.'),
    table_name: identifier('table_name')
      .optional()
      .describe('Destination table. Default: the model name (`events`, `persons`, `sessions`). Created when missing.'),
    ssl_mode: z.enum(SSL_MODES).default(o.defaultSslMode).describe(o.describe.ssl_mode),
    ssl_ca_certificate: z.string().optional().describe(o.describe.ssl_ca_certificate),
    connect_timeout_seconds: z
      .number()
      .int()
      .min(1)
      .max(300)
      .default(10)
      .describe('Seconds to wait for a connection before the attempt fails (and is retried). Default: 10.'),
  };
}

/** The settings `connectPg` reads. */
export interface PgWireConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  ssl_mode: SslMode;
  ssl_ca_certificate?: string;
  connect_timeout_seconds: number;
}

/** Cross-field checks for `pgWireFields`. */
export function checkPgWireFields(c: { ssl_mode: SslMode; ssl_ca_certificate?: string }, ctx: z.RefinementCtx): void {
  if (c.ssl_mode === 'verify-ca' && !c.ssl_ca_certificate) {
    ctx.addIssue({ code: 'custom', path: ['ssl_ca_certificate'], message: 'ssl_mode verify-ca needs ssl_ca_certificate (the PEM of the CA)' });
  }
}
