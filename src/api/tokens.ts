/**
 * API tokens: 32 random bytes, shown once, kept only as a SHA-256 hash. A slow
 * password hash is not needed: the token is random, not chosen by a person.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'lo_';

export function newToken(): { token: string; hash: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
