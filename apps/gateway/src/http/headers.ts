import type { Context } from 'hono';
import type { GatewayEnv } from '../proxy/context.js';
import type { HeaderReader } from './authenticate.js';

/**
 * Reads request headers straight from Node's message when served over a socket: asking the web
 * Request instead makes @hono/node-server build a whole `Headers` object from the raw headers, a
 * cost paid on every request for two or three lookups. Names must be lower case.
 */
export function headerReader(c: Context<GatewayEnv>): HeaderReader {
  const raw = c.env?.incoming?.headers;
  if (!raw) return (name) => c.req.header(name);
  return (name) => {
    const v = raw[name];
    return Array.isArray(v) ? v[0] : v;
  };
}
