/**
 * Issue 12.8 (related): a malformed credential is a configuration error, failing at once with a message naming
 * the field, never a retryable failure retried to the end. The errors are the real ones the drivers raise
 * (the key is parsed before any network I/O, so no server is needed).
 */
import { generateKeyPairSync } from 'node:crypto';
import { SnowflakeSession } from '../../plugins/snowflake/connection';
import { classifySnowflakeError } from '../../plugins/snowflake/errors';
import { snowflakeConfigSchema } from '../../plugins/snowflake/config';
import { ServiceAccountTokens } from '../../plugins/bigquery/auth';
import { classifyBigQueryError } from '../../plugins/bigquery/errors';

const { privateKey: encryptedKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right-passphrase' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

/** A config that reaches the driver's key handling; the access URL is a closed local port, never contacted. */
function snowflakeConfig(privateKey: string, passphrase?: string) {
  return snowflakeConfigSchema.parse({
    account: 'xy12345',
    user: 'outport',
    private_key: privateKey,
    ...(passphrase === undefined ? {} : { private_key_passphrase: passphrase }),
    warehouse: 'wh',
    database: 'db',
    schema: 'public',
    table_name: 't',
    access_url: 'http://127.0.0.1:9',
  });
}

async function snowflakeFailure(privateKey: string, passphrase?: string): Promise<unknown> {
  try {
    const session = await SnowflakeSession.open(snowflakeConfig(privateKey, passphrase));
    await session.close();
  } catch (err) {
    return err;
  }
  throw new Error('expected the connection to fail');
}

describe('snowflake: malformed key-pair credentials are config errors naming the field', () => {
  it('a value that is not a PEM key names private_key', async () => {
    const e = classifySnowflakeError(await snowflakeFailure('-----BEGIN PRIVATE KEY-----not a key-----END PRIVATE KEY-----'));
    expect(e.kind).toBe('config');
    expect(e.message).toContain('private_key');
  });

  it('a truncated PEM key names private_key', async () => {
    const truncated = encryptedKey.split('\n').slice(0, 4).join('\n') + '\n-----END ENCRYPTED PRIVATE KEY-----\n';
    const e = classifySnowflakeError(await snowflakeFailure(truncated, 'right-passphrase'));
    expect(e.kind).toBe('config');
    expect(e.message).toMatch(/private_key\b/);
  });

  it('a wrong passphrase names private_key_passphrase', async () => {
    const e = classifySnowflakeError(await snowflakeFailure(encryptedKey, 'wrong-passphrase'));
    expect(e.kind).toBe('config');
    expect(e.message).toContain('private_key_passphrase');
  });

  it('an encrypted key without a passphrase names private_key_passphrase', async () => {
    const e = classifySnowflakeError(await snowflakeFailure(encryptedKey));
    expect(e.kind).toBe('config');
    expect(e.message).toContain('private_key_passphrase');
  });
});

describe('bigquery: a malformed service-account key is a config error naming the field', () => {
  const key = (privateKey: string) => ({
    type: 'service_account',
    private_key: privateKey,
    private_key_id: 'k1',
    client_email: 'outport@example.iam.gserviceaccount.com',
    token_uri: 'http://127.0.0.1:9/token',
  });

  for (const [name, pem] of [
    ['garbage between PEM markers', '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n'],
    ['an encrypted key (service-account keys never are)', encryptedKey],
  ] as const) {
    it(name, async () => {
      let failure: unknown;
      try {
        await new ServiceAccountTokens(key(pem) as never).accessToken();
      } catch (err) {
        failure = err;
      }
      const e = classifyBigQueryError(failure);
      expect(e.kind).toBe('config');
      expect(e.message).toContain('credentials_json.private_key');
    });
  }
});
