import type { Hono } from 'hono';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';
import { createDeploymentHealth } from '../../proxy/deployment-health.js';
import { mayUseGroup } from '../../proxy/key-policy.js';
import { headerReader } from '../headers.js';

/**
 * `GET /health` (LiteLLM's): checks the deployments a caller may use, or those of `?model=` (a group
 * name or a deployment's `litellm_params.model`), and lists them as healthy or unhealthy. Needs a key
 * when a master key is set. Reports are reused for `general_settings.health_check_interval` seconds.
 */
export function registerDeploymentHealthRoute(app: Hono<GatewayEnv>, deps: ProxyDeps): void {
  const health = createDeploymentHealth(deps, deps.config.healthCheckIntervalMs);
  app.get('/health', async (c) => {
    const principal = await deps.authenticate(headerReader(c));
    const model = c.req.query('model');
    const deployments = deps.router.groups
      .filter((g) => principal.kind !== 'virtual' || mayUseGroup(principal, g.name, g))
      .flatMap((g) => g.deployments)
      .filter((d) => model === undefined || d.modelGroup === model || d.publicParams['model'] === model);
    return c.json(await health(deployments));
  });
}
