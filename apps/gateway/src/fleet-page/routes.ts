import type { Hono } from 'hono';
import { GatewayError } from '../errors.js';
import { clientKey, createSecretMatcher } from '../http/client-key.js';
import { headerReader } from '../http/headers.js';
import type { GatewayEnv } from '../proxy/context.js';
import { FLEET_CSS, FLEET_HTML, FLEET_JS } from './page.js';
import type { FleetSnapshot } from './snapshot.js';

export interface FleetRouteOptions {
  readonly snapshot: () => Promise<FleetSnapshot>;
  readonly masterKey: string | undefined;
  /** A key that may read `/fleet/state` and nothing else. */
  readonly viewerKey: string | undefined;
}

/** The page never embeds data or keys; its script asks for the key and reads /fleet/state with it. */
const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/**
 * The live fleet page: `GET /fleet` (static HTML, script and style — no data, no secret), and
 * `GET /fleet/state`, the fleet's state as JSON for the master key or the viewer key. Without
 * either key configured the gateway is open, and so is the state.
 */
export function registerFleetRoutes(app: Hono<GatewayEnv>, options: FleetRouteOptions): void {
  const matchers = [options.masterKey, options.viewerKey]
    .filter((k): k is string => k !== undefined)
    .map(createSecretMatcher);
  const html = (body: string, type: string) =>
    new Response(body, { headers: { 'content-type': type, ...PAGE_HEADERS } });
  app.get('/fleet', () => html(FLEET_HTML, 'text/html; charset=utf-8'));
  app.get('/fleet/app.js', () => html(FLEET_JS, 'text/javascript; charset=utf-8'));
  app.get('/fleet/app.css', () => html(FLEET_CSS, 'text/css; charset=utf-8'));
  app.get('/fleet/state', async (c) => {
    if (matchers.length > 0) {
      const key = clientKey(headerReader(c));
      if (key === undefined)
        throw new GatewayError(401, 'auth_error', 'Authentication Error, No api key passed in.');
      // Every matcher runs, so the time taken does not say which key was close.
      const ok = matchers.map((m) => m(key)).includes(true);
      if (!ok)
        throw new GatewayError(
          401,
          'auth_error',
          'Authentication Error, the fleet page needs the master key or the fleet viewer key.',
        );
    }
    return c.json(await options.snapshot(), 200, { 'cache-control': 'no-store' });
  });
}
