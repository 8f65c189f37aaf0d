import type { Context } from 'hono';
import { GatewayError } from '../../errors.js';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';
import type { Principal } from '../authenticate.js';
import { parseJsonObject, readBody } from '../body.js';
import { headerReader } from '../headers.js';

type C = Context<GatewayEnv>;

/** Who may use the admin API (`/key/*`, `/team/*`, `/user/*`), and how its bodies are read. */
export interface AdminAccess {
  /** The master key only; without a master key configured the admin API is closed, not open. */
  master(c: C): Promise<void>;
  /**
   * The master key or a virtual key, for the info routes a key may use about itself (its own key,
   * its team, its user — the route decides); 401 for anyone else.
   */
  caller(c: C): Promise<Exclude<Principal, { kind: 'open' }>>;
  /** The request's JSON object body (size-limited, one parse). */
  body(c: C): Promise<Record<string, unknown>>;
  /** The body, or {} when there is none. */
  optionalBody(c: C): Promise<Record<string, unknown>>;
}

export function createAdminAccess(deps: ProxyDeps): AdminAccess {
  const closed = () => {
    if (deps.config.masterKey === undefined) {
      throw new GatewayError(
        403,
        'forbidden',
        'the admin API needs a master key: set general_settings.master_key or LITELLM_MASTER_KEY',
      );
    }
  };
  const raw = async (c: C) =>
    readBody(c.env?.incoming, c.req.raw, headerReader(c)('content-length'), deps.config.maxRequestBytes);
  return {
    async master(c) {
      closed();
      const principal = deps.authenticate(headerReader(c));
      if (principal instanceof Promise || principal.kind !== 'master') {
        void Promise.resolve(principal).catch(() => {});
        throw new GatewayError(
          401,
          'auth_error',
          `Authentication Error, Only proxy admin can be used to generate, delete, update info for new keys/users/teams. Route=${c.req.path}. (The proxy admin is the master key.)`,
        );
      }
    },
    async caller(c) {
      closed();
      const principal = await deps.authenticate(headerReader(c));
      if (principal.kind === 'open') throw new GatewayError(401, 'auth_error', 'Authentication Error');
      return principal;
    },
    async body(c) {
      return parseJsonObject(await raw(c));
    },
    async optionalBody(c) {
      const bytes = await raw(c);
      return bytes.length === 0 ? {} : parseJsonObject(bytes);
    },
  };
}

/** A query parameter that must be a whole number in [min, max], or absent. */
export function intParam(
  text: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new GatewayError(400, 'invalid_request', `"${name}" must be a whole number from ${min} to ${max}`, {
      param: name,
    });
  }
  return n;
}

/** 403 for a key reading about someone else, as LiteLLM answers. */
export const notYours = (message: string) => new GatewayError(403, 'forbidden', message);
