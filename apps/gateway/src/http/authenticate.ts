import { GatewayError } from '../errors.js';
import type { CachedKey, KeyCache } from '../keys/key-cache.js';
import { keyHash } from '../keys/key-hash.js';
import { clientKey, createSecretMatcher } from './client-key.js';

/** Who is calling: nobody in particular (an open gateway), the master key, or a virtual key. */
export type Principal =
  | { readonly kind: 'open' }
  | { readonly kind: 'master' }
  | { readonly kind: 'virtual'; readonly hash: string; readonly key: CachedKey };

export type HeaderReader = (name: string) => string | undefined;
/** Synchronous for the master key and for virtual keys this replica already holds. */
export type Authenticator = (header: HeaderReader) => Principal | Promise<Principal>;

const OPEN: Principal = { kind: 'open' };
const MASTER: Principal = { kind: 'master' };

const invalid = () =>
  new GatewayError(401, 'auth_error', 'Authentication Error, Invalid proxy server token passed.');

/**
 * Built once at startup. Without a master key the gateway is open (startup says so loudly); with
 * one, a request needs the master key or a virtual key in any of LiteLLM's key headers. The master
 * key is compared in constant time; virtual keys are looked up by their SHA-256. Failures are
 * LiteLLM's: 401 `auth_error` (missing, unknown or blocked key, blocked team), 400 `expired_key`;
 * messages never echo the key.
 */
export function createAuthenticator(
  masterKey: string | undefined,
  keys?: { readonly cache: KeyCache; readonly now: () => number },
): Authenticator {
  if (masterKey === undefined) return () => OPEN;
  const matches = createSecretMatcher(masterKey);
  return (header) => {
    const key = clientKey(header);
    if (key === undefined)
      throw new GatewayError(401, 'auth_error', 'Authentication Error, No api key passed in.');
    if (matches(key)) return MASTER;
    if (!keys || !key.startsWith('sk-')) throw invalid();
    const hash = keyHash(key);
    const held = keys.cache.peek(hash);
    if (held) return virtual(hash, held, keys.now());
    return keys.cache.get(hash).then(
      (found) => {
        if (!found) throw invalid();
        return virtual(hash, found, keys.now());
      },
      (error: unknown) => {
        throw new GatewayError(
          503,
          'key_store_unavailable',
          'the key store is unreachable and this key has not been seen by this replica; retry shortly',
          {
            cause: error,
            headers: { 'retry-after': '1' },
          },
        );
      },
    );
  };
}

function virtual(hash: string, key: CachedKey, now: number): Principal {
  if (key.doc.blocked) {
    throw new GatewayError(
      401,
      'auth_error',
      "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
    );
  }
  // Admission checks the team's record itself; this is the replica's copy, for routes that admit nothing.
  if (key.team?.doc.blocked) {
    throw new GatewayError(
      401,
      'auth_error',
      `Authentication Error, Team=${key.team.doc.team_id} is blocked. Update via \`/team/unblock\` if you're an admin.`,
    );
  }
  const expires = key.account.expiresAt;
  if (expires !== undefined && now >= expires) {
    throw new GatewayError(
      400,
      'expired_key',
      `Authentication Error - Expired Key. Key Expiry time ${new Date(expires).toISOString()} and current time ${new Date(now).toISOString()}`,
    );
  }
  return { kind: 'virtual', hash, key };
}
