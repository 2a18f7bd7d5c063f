import { z } from 'zod';
import type { Model } from '../../src/sdk';
import { checkPgWireFields, pgWireFields } from '../../src/sdk/pgwire';
import { POSTGRES_IDENTIFIERS } from './identifiers';

export { SSL_MODES, type SslMode } from '../../src/sdk/pgwire';

export const postgresConfigSchema = z
  .object({
    ...pgWireFields({
      identifiers: POSTGRES_IDENTIFIERS,
      defaultPort: 5432,
      // Encrypted unless the user opts out: a password over plain TCP is the worse surprise than a TLS error.
      defaultSslMode: 'require',
      describe: {
        host: 'Host name or IP address of the Postgres server.',
        port: 'TCP port of the Postgres server. Default: 5432.',
        user:
          'Role Outport connects as. It needs CREATE on the schema (for the per-run staging table and, on first use, the ' +
          'destination table) and INSERT, UPDATE and SELECT on the destination table.',
        password: 'Password of the role. Stored encrypted, never returned by the API.',
        ssl_mode:
          'TLS to the server. `disable`: plain TCP. `require`: encrypted, certificate not checked (self-signed accepted). ' +
          '`verify-ca`: encrypted, certificate must be signed by `ssl_ca_certificate`. `verify-full`: as verify-ca ' +
          '(or the system CAs when no certificate is given) and the certificate must name `host`. Default: require (a server without TLS needs `disable` set explicitly).',
        ssl_ca_certificate: 'PEM certificate(s) of the CA that signed the server certificate. Required for verify-ca.',
      },
    }),
  })
  .superRefine((c, ctx) => {
    checkPgWireFields(c, ctx);
    if (c.ssl_ca_certificate !== undefined && !c.ssl_ca_certificate.includes('-----BEGIN CERTIFICATE-----')) {
      ctx.addIssue({ code: 'custom', path: ['ssl_ca_certificate'], message: 'ssl_ca_certificate must be a PEM certificate (-----BEGIN CERTIFICATE-----)' });
    }
  });

export type PostgresConfig = z.output<typeof postgresConfigSchema>;

export function tableFor(config: PostgresConfig, model: Model): string {
  return config.table_name ?? model;
}
