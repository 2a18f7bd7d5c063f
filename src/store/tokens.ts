/** API tokens: `op_` + 32 random bytes (base62-ish). The prefix lets secret scanners recognise leaked ones. */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'op_';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(30).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function displayPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + 6) + '…';
}
