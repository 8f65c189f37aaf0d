import type { Hono } from 'hono';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';

/**
 * `GET /metrics`: Prometheus text, unauthenticated like LiteLLM's (scrapers rarely carry keys).
 * `gather` replaces this process's registry with the whole process group's under `--workers`.
 */
export function registerMetricsRoute(
  app: Hono<GatewayEnv>,
  deps: ProxyDeps,
  gather?: () => Promise<string>,
): void {
  app.get('/metrics', async (c) => {
    const body = gather ? await gather() : await deps.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.registry.contentType });
  });
}
