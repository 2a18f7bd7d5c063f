import { createSign } from 'node:crypto';
import { DestinationError } from '../../src/sdk';
import type { ServiceAccountKey } from './config';

const SCOPE = 'https://www.googleapis.com/auth/bigquery';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/**
 * OAuth access tokens for a service account, obtained with the JWT-bearer grant at the key's own `token_uri`.
 * The Google SDK's built-in client always posts to oauth2.googleapis.com and ignores `token_uri`; honouring it is
 * what makes private token endpoints (and the test fake) work. Passed to the SDK as its `authClient`.
 */
export class ServiceAccountTokens {
  private token?: { value: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly key: ServiceAccountKey,
    private readonly signal?: AbortSignal,
  ) {}

  /** What the SDK calls (via GoogleAuth.authorizeRequest) before each request. */
  async getRequestHeaders(): Promise<Headers> {
    return new Headers({ authorization: `Bearer ${await this.accessToken()}` });
  }

  async accessToken(): Promise<string> {
    // Refresh a minute early so a token never expires in flight.
    if (this.token && this.token.expiresAt - 60_000 > Date.now()) return this.token.value;
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private assertion(): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', kid: this.key.private_key_id };
    const claims = { iss: this.key.client_email, scope: SCOPE, aud: this.key.token_uri, iat: now, exp: now + 3600 };
    const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    let signature: Buffer;
    try {
      signature = createSign('RSA-SHA256').update(unsigned).sign(this.key.private_key);
    } catch (err) {
      throw new DestinationError('config', `credentials_json.private_key cannot sign: ${(err as Error).message}`, {
        cause: err,
        code: 'AUTH_FAILED',
      });
    }
    return `${unsigned}.${base64url(signature)}`;
  }

  private async fetchToken(): Promise<string> {
    const body = new URLSearchParams({ grant_type: JWT_BEARER, assertion: this.assertion() });
    let res: Response;
    try {
      res = await fetch(this.key.token_uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: this.signal,
      });
    } catch (err) {
      // fetch() reports network failures as TypeError('fetch failed') with the socket error as its cause.
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new DestinationError('retryable', `Cannot reach the token endpoint ${this.key.token_uri} (${code}): ${(err as Error).message}`, {
        cause: err,
        code,
      });
    }
    const text = await res.text();
    let json: { access_token?: string; expires_in?: number; error?: string; error_description?: string } = {};
    try {
      json = JSON.parse(text);
    } catch {
      /* non-JSON answers are reported by status below */
    }
    if (res.ok && json.access_token) {
      this.token = { value: json.access_token, expiresAt: Date.now() + (json.expires_in ?? 3600) * 1000 };
      return json.access_token;
    }
    const detail = json.error ? `${json.error}: ${json.error_description ?? ''}`.trim() : text.slice(0, 200);
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      throw new DestinationError('retryable', `Token endpoint ${this.key.token_uri} answered HTTP ${res.status}: ${detail}`, {
        code: `HTTP_${res.status}`,
      });
    }
    // invalid_grant (bad signature, deleted key, clock skew), invalid_client, unauthorized_client: all mean the key.
    throw new DestinationError(
      'config',
      `Google rejected the service-account key in credentials_json (${detail}). ` +
        'The key may be deleted or disabled: create a new key for the service account and paste the whole file.',
      { code: 'AUTH_FAILED' },
    );
  }
}
