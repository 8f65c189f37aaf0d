import type { Hono } from 'hono';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';

/** `GET /metrics`: Prometheus text, unauthenticated like LiteLLM's (scrapers rarely carry keys). */
export function registerMetricsRoute(app: Hono<GatewayEnv>, deps: ProxyDeps): void {
  app.get('/metrics', async (c) => {
    const body = await deps.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.registry.contentType });
  });
}
