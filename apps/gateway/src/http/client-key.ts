import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The headers a client key may arrive in, in LiteLLM's order of precedence. Node lower-cases
 * incoming header names, so plain lookups suffice.
 */
const KEY_HEADERS = ['x-litellm-api-key', 'api-key', 'x-api-key'] as const;

/** The key the client sent, or undefined. `Authorization: Bearer` wins, as in LiteLLM. */
export function clientKey(header: (name: string) => string | undefined): string | undefined {
  const auth = header('authorization');
  if (auth) {
    const trimmed = auth.trim();
    if (/^bearer(\s|$)/i.test(trimmed)) return trimmed.slice(6).trim() || undefined;
    return trimmed || undefined;
  }
  for (const name of KEY_HEADERS) {
    const v = header(name);
    if (v) return v.trim() || undefined;
  }
  return undefined;
}

/** SHA-256 of a key: what is compared, cached and stored, never the key itself. */
export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * A constant-time check against a secret known at startup: both sides are hashed to 32 bytes first,
 * so neither the content nor the length of the secret leaks through timing.
 */
export function createSecretMatcher(secret: string): (candidate: string) => boolean {
  const expected = hashKey(secret);
  return (candidate) => timingSafeEqual(hashKey(candidate), expected);
}
