import { GatewayError } from '../../errors.js';
import type { UpstreamIo, UpstreamRequest, UpstreamTarget } from '../types.js';
import { type GoogleTokenSource, TokenExchangeError } from './token-cache.js';

/**
 * Upstream calls with a Google access token (Vertex AI): the deployment's headers plus
 * `authorization: Bearer <token>`, rebuilt only when the token changes; synchronous while the cached
 * token is good, a promise while one is being fetched. A 401 drops the token (`renewCredentials`).
 */
export function googleAuthedRequests(
  tokens: GoogleTokenSource,
  headers: Readonly<Record<string, string>>,
  name: string,
): (
  target: UpstreamTarget,
  body: Buffer | string,
  io: UpstreamIo,
) => UpstreamRequest | Promise<UpstreamRequest> {
  let authed: { token: string; headers: Record<string, string> } | undefined;
  const withToken = (token: string) => {
    if (authed?.token !== token)
      authed = { token, headers: { ...headers, authorization: `Bearer ${token}` } };
    return authed.headers;
  };
  return (target, body, io) => {
    const token = tokens.token(io.dispatcher, io.now());
    const send = (tok: string): UpstreamRequest => ({
      target,
      headers: withToken(tok),
      body,
      renewCredentials: () => tokens.invalidate(tok),
    });
    if (typeof token === 'string') return send(token);
    return token.then(send, (error: unknown) => {
      throw tokenFailure(error, name);
    });
  };
}

/** A token that could not be had: refused → 401 (the deployment cools down at once), unreachable → 502. */
export function tokenFailure(error: unknown, name: string): GatewayError {
  if (error instanceof TokenExchangeError) {
    return error.refused
      ? new GatewayError(
          401,
          'upstream_auth_error',
          `${name}: its credentials were refused: ${error.message}`,
          { cause: error },
        )
      : new GatewayError(502, 'upstream_unreachable', `${name}: no access token: ${error.message}`, {
          cause: error,
        });
  }
  return new GatewayError(502, 'upstream_unreachable', `${name}: no access token`, { cause: error });
}
