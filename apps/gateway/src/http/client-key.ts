import { timingSafeEqual } from 'node:crypto';

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

/**
 * A constant-time check against a secret known at startup. Whatever the candidate, exactly one
 * `timingSafeEqual` over the secret's length runs (a candidate of another length is compared as the
 * secret against itself and then rejected), so the time taken says nothing about the secret's content.
 */
export function createSecretMatcher(secret: string): (candidate: string) => boolean {
  const expected = Buffer.from(secret, 'utf8');
  return (candidate) => {
    const given = Buffer.from(candidate, 'utf8');
    const sameLength = given.length === expected.length;
    const equal = timingSafeEqual(sameLength ? given : expected, expected);
    return sameLength && equal;
  };
}
