import type { Hono } from 'hono';
import type { GatewayEnv } from '../../proxy/context.js';

/** `GET /routes` (LiteLLM's): every route this gateway serves and its methods, for tooling that discovers them. */
export function registerRouteList(app: Hono<GatewayEnv>): void {
  const methods = new Map<string, Set<string>>();
  for (const { path, method } of app.routes) {
    const set = methods.get(path) ?? new Set<string>();
    set.add(method);
    methods.set(path, set);
  }
  const body = JSON.stringify({
    routes: [...methods, ['/routes', new Set(['GET'])] as const].map(([path, m]) => ({
      path,
      methods: [...m].sort(),
    })),
  });
  app.get('/routes', () => new Response(body, { headers: { 'content-type': 'application/json' } }));
}
