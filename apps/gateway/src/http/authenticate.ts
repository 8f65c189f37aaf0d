import { GatewayError } from '../errors.js';
import { clientKey, createSecretMatcher } from './client-key.js';

/** Who is calling. Virtual keys join this union when they land. */
export type Principal = { readonly kind: 'open' } | { readonly kind: 'master' };

export type HeaderReader = (name: string) => string | undefined;
export type Authenticator = (header: HeaderReader) => Principal;

const OPEN: Principal = { kind: 'open' };
const MASTER: Principal = { kind: 'master' };

/**
 * Built once at startup. Without a master key the gateway is open (startup says so loudly); with
 * one, the request needs it in any of LiteLLM's key headers, compared in constant time. Failures are
 * LiteLLM's 401 `auth_error`, whose messages never echo the key.
 */
export function createAuthenticator(masterKey: string | undefined): Authenticator {
  if (masterKey === undefined) return () => OPEN;
  const matches = createSecretMatcher(masterKey);
  return (header) => {
    const key = clientKey(header);
    if (key === undefined)
      throw new GatewayError(401, 'auth_error', 'Authentication Error, No api key passed in.');
    if (!matches(key))
      throw new GatewayError(401, 'auth_error', 'Authentication Error, Invalid proxy server token passed.');
    return MASTER;
  };
}
