/**
 * The fake's OAuth 2.0 token endpoint for service accounts (RFC 7523 JWT-bearer grant), as oauth2.googleapis.com
 * answers it: the assertion's RS256 signature is verified with the public key registered for its `kid`, and
 * failures use Google's `{ error: 'invalid_grant', error_description }` shape.
 */
import { createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';

export interface ServiceAccountKeyFile {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export class FakeOAuth {
  /** public key PEM by key id, and the account each key belongs to */
  private readonly keys = new Map<string, { email: string; publicKey: string }>();
  private readonly tokens = new Map<string, { email: string; expiresAt: number }>();

  /** A fresh RSA key pair registered for `email`; returns the key file a user would download. */
  issueKey(projectId: string, tokenUri: string, email = `outport-test@${projectId}.iam.gserviceaccount.com`): ServiceAccountKeyFile {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = randomBytes(20).toString('hex');
    this.keys.set(kid, { email, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    return {
      type: 'service_account',
      project_id: projectId,
      private_key_id: kid,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: randomBytes(10).toString('hex'),
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: tokenUri,
    };
  }

  /** Deletes a key, as `gcloud iam service-accounts keys delete` would. */
  revokeKey(kid: string): void {
    this.keys.delete(kid);
  }

  /** Handles a token request body; returns the HTTP status and JSON body to send. */
  grant(form: URLSearchParams, tokenUri: string): { status: number; body: unknown } {
    const deny = (description: string, error = 'invalid_grant') => ({ status: 400, body: { error, error_description: description } });
    if (form.get('grant_type') !== JWT_BEARER) return deny('Invalid grant_type: ' + form.get('grant_type'), 'unsupported_grant_type');
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return deny('Invalid JWT: malformed assertion.');
    let header: { alg?: string; kid?: string };
    let claims: { iss?: string; aud?: string; scope?: string; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    } catch {
      return deny('Invalid JWT: malformed header or claims.');
    }
    if (header.alg !== 'RS256') return deny('Invalid JWT: unsupported algorithm.');
    const key = header.kid ? this.keys.get(header.kid) : undefined;
    if (!key || key.email !== claims.iss) return deny('Invalid JWT Signature.');
    const valid = createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(key.publicKey, Buffer.from(parts[2], 'base64url'));
    if (!valid) return deny('Invalid JWT Signature.');
    const now = Math.floor(Date.now() / 1000);
    if (claims.aud !== tokenUri && claims.aud !== 'https://oauth2.googleapis.com/token') return deny('Invalid JWT: audience mismatch.');
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp - claims.iat > 3600 || claims.exp < now || claims.iat > now + 300) {
      return deny('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    if (!claims.scope) return deny('Invalid OAuth scope or ID token audience provided.', 'invalid_scope');
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(accessToken, { email: key.email, expiresAt: Date.now() + 3600_000 });
    return { status: 200, body: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
  }

  /** The account behind a `Bearer` header, or undefined when the token is unknown or expired. */
  authenticate(authorization: string | undefined): string | undefined {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    const entry = token ? this.tokens.get(token) : undefined;
    return entry && entry.expiresAt > Date.now() ? entry.email : undefined;
  }
}
