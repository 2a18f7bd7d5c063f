/** Snowflake failures -> DestinationError, by Snowflake error code (server codes are 6 digits, driver codes 40xxxx). */
import { classifyCommonError, classifyHttpStatus, DestinationError, findSourceError, isDestinationError } from '../../src/sdk';

const AUTH_CODES: Record<string, string> = {
  '390100': 'Incorrect username or password: check `user` and `password`.',
  '390144': 'Key-pair authentication failed (JWT rejected): check `user` and `private_key`, and that its public key is set on the user (ALTER USER ... SET RSA_PUBLIC_KEY).',
  '390102': 'The user is disabled: check `user`.',
  '390113': 'The user is locked after too many failed logins: wait, or ask an administrator to unlock it.',
  '390189': 'The role is not granted to the user: check `role`.',
  '390201': 'The database does not exist or is not authorized for this role: check `database` and `role`.',
  '390422': 'The login is blocked by a network policy: allow the Outport host in the network policy.',
};

const CONFIG_CODES: Record<string, string> = {
  '002003': 'An object does not exist or is not authorized for this role: check `database`, `schema`, `table_name` and the role grants.',
  '000606': 'No active warehouse: check `warehouse` exists and the role has USAGE on it.',
  '000608': 'The warehouse is suspended and could not resume: resume it (ALTER WAREHOUSE ... RESUME), enable AUTO_RESUME, or raise its resource monitor quota.',
  '003001': 'Insufficient privileges: grant the role the privileges listed for `user`.',
  '002043': 'The schema or database does not exist or is not authorized: check `database` and `schema`.',
};

const PERMANENT_CODES: Record<string, string> = {
  '000904': 'The destination table does not have the expected columns (schema mismatch)',
  '100072': 'A required column was NULL in the loaded data',
  '100069': 'The staged JSON could not be parsed',
  '002262': 'A value could not be converted to the column type (schema mismatch)',
};

const RETRYABLE_CODES = new Set([
  '000630', // statement timeout: the run is retried (a bigger warehouse or a longer interval may be needed)
  '000604', // canceled (timeout or admin cancel)
  '000625', // statement aborted because of a concurrent DML conflict
  '000603', // internal incident
  '390111', // session gone
  '390112', // session token expired
  '390114', // master token expired
]);

/** Driver (client-side) codes. */
const DRIVER_NETWORK = new Set(['401001', '401003', '402001', '402002']);
const DRIVER_BAD_OPTIONS = /^4040\d\d$/;

function snowflakeCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'number') return String(code).padStart(6, '0');
  if (typeof code === 'string' && /^\d{1,6}$/.test(code)) return code.padStart(6, '0');
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The driver reads `private_key` with OpenSSL while building the login JWT: what fails there is the key or its
 * passphrase as configured, never a transient condition.
 */
const KEY_DRIVER_CODES: Record<string, string> = {
  '404026': 'private_key is not a PEM private key: paste the whole key file (-----BEGIN PRIVATE KEY----- ... -----END PRIVATE KEY-----)',
  '404028': 'private_key_passphrase is not a string',
};
const PASSPHRASE_OSSL_CODES = new Set(['ERR_OSSL_BAD_DECRYPT', 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED', 'ERR_MISSING_PASSPHRASE']);

function malformedKeyError(err: unknown): DestinationError | undefined {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !(code.startsWith('ERR_OSSL_') || code === 'ERR_MISSING_PASSPHRASE')) return undefined;
  const advice = PASSPHRASE_OSSL_CODES.has(code)
    ? 'private_key_passphrase does not decrypt private_key: check the passphrase (an encrypted key needs one)'
    : 'private_key could not be read as a private key: paste the whole PEM key file, unchanged';
  return new DestinationError('config', `${advice} (${code}: ${messageOf(err)})`, { cause: err, code: 'SNOWFLAKE_PRIVATE_KEY' });
}

export function classifySnowflakeError(err: unknown): DestinationError {
  if (isDestinationError(err)) return err;
  // A ClickHouse failure on the byte path stays the cause, so the host reports and retries it as a reading failure.
  const fromSource = findSourceError(err);
  if (fromSource) return new DestinationError('retryable', messageOf(fromSource), { cause: err });
  const malformedKey = malformedKeyError(err);
  if (malformedKey) return malformedKey;
  const code = snowflakeCode(err);
  if (code === undefined) {
    const cause = (err as { cause?: unknown })?.cause;
    return cause !== undefined && !isDestinationError(cause) ? classifyCommonError(cause) : classifyCommonError(err);
  }
  const msg = `Snowflake ${code}: ${messageOf(err)}`;
  const opts = { cause: err, code: `SNOWFLAKE_${code}` };
  if (AUTH_CODES[code]) return new DestinationError('config', `${AUTH_CODES[code]} (${msg})`, opts);
  if (CONFIG_CODES[code]) return new DestinationError('config', `${CONFIG_CODES[code]} (${msg})`, opts);
  if (PERMANENT_CODES[code]) return new DestinationError('permanent', `${PERMANENT_CODES[code]}: ${msg}`, opts);
  if (RETRYABLE_CODES.has(code)) return new DestinationError('retryable', msg, opts);
  if (code === '401002') {
    const status = (err as { response?: { statusCode?: number } }).response?.statusCode;
    if (typeof status === 'number') return classifyHttpStatus(status, msg, err);
    return new DestinationError('retryable', msg, opts);
  }
  if (DRIVER_NETWORK.has(code)) return new DestinationError('retryable', `Network error talking to Snowflake: ${msg}`, opts);
  if (KEY_DRIVER_CODES[code]) return new DestinationError('config', `${KEY_DRIVER_CODES[code]} (${msg})`, opts);
  if (DRIVER_BAD_OPTIONS.test(code)) return new DestinationError('config', `Invalid connection settings: ${msg}`, opts);
  const sqlState = (err as { sqlState?: string }).sqlState;
  if (sqlState?.startsWith('42') || sqlState?.startsWith('22')) return new DestinationError('permanent', msg, opts);
  if (sqlState?.startsWith('28')) return new DestinationError('config', `Authentication failed: ${msg}`, opts);
  // Unknown server failures are retried; the host's attempt cap bounds the cost.
  return new DestinationError('retryable', msg, opts);
}
