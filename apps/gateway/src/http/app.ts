import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { GatewayError } from '../errors.js';
import { type FleetRouteOptions, registerFleetRoutes } from '../fleet-page/routes.js';
import type { KeyAdmin } from '../keys/key-admin.js';
import type { GatewayEnv, ProxyDeps } from '../proxy/context.js';
import { finishRequest } from '../proxy/finish.js';
import { createLlmHandler } from '../proxy/llm-handler.js';
import type { TeamAdmin } from '../teams/team-admin.js';
import type { UserAdmin } from '../users/user-admin.js';
import { createAdminAccess } from './routes/admin-access.js';
import { registerDeploymentHealthRoute } from './routes/deployment-health.js';
import { type Readiness, registerHealthRoutes } from './routes/health.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerMessagesRoute } from './routes/messages.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerModelRoutes } from './routes/models.js';
import { registerRouteList } from './routes/route-list.js';
import { registerTeamRoutes } from './routes/teams.js';
import { registerUserRoutes } from './routes/users.js';

export interface AppOptions {
  /** What `/health/readiness` reports (store mode, shutdown). */
  readonly readiness: () => Readiness;
  /** The process group's metrics, under `--workers`. */
  readonly gatherMetrics?: (() => Promise<string>) | undefined;
  /** The admin API's logic (keys, teams, users); without it the `/key/*`, `/team/*`, `/user/*` routes are not served. */
  readonly admin?:
    | { readonly keys: KeyAdmin; readonly teams: TeamAdmin; readonly users: UserAdmin }
    | undefined;
  /** The live fleet page (`/fleet`, `/fleet/state`); not served without it. */
  readonly fleetPage?: FleetRouteOptions | undefined;
}

/**
 * The gateway's HTTP surface. Routes are registered once; every error on any route is thrown as a
 * GatewayError (or anything else, which becomes a 500 without details) and rendered here, in one
 * place, as OpenAI's error JSON.
 */
export function createApp(deps: ProxyDeps, options: AppOptions): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  for (const [path, endpoint] of [
    ['/chat/completions', 'chat'],
    ['/completions', 'completions'],
    ['/embeddings', 'embeddings'],
  ] as const) {
    const handler = createLlmHandler(endpoint, deps);
    app.post(path, handler);
    app.post(`/v1${path}`, handler);
    // LiteLLM's Azure-style and engine-style spellings of the same routes.
    app.post(`/openai/deployments/:model${path}`, handler);
    app.post(`/engines/:model${path}`, handler);
  }
  registerMessagesRoute(app, deps);
  registerModelRoutes(app, deps);
  registerHealthRoutes(app, options.readiness, deps.authenticate);
  registerDeploymentHealthRoute(app, deps);
  registerMetricsRoute(app, deps, options.gatherMetrics);
  if (options.admin) {
    const access = createAdminAccess(deps);
    registerKeyRoutes(app, access, options.admin.keys);
    registerTeamRoutes(app, access, options.admin.teams);
    registerUserRoutes(app, access, options.admin.users);
  }
  if (options.fleetPage) registerFleetRoutes(app, options.fleetPage);
  // Last: it lists every route registered before it.
  registerRouteList(app);

  app.notFound((c) => {
    const error = new GatewayError(404, 'not_found', `no route for ${c.req.method} ${c.req.path}`);
    return error.toResponse({ 'x-litellm-call-id': c.get('callId') ?? randomUUID() });
  });
  app.onError((err, c) => {
    const error =
      err instanceof GatewayError
        ? err
        : new GatewayError(500, 'internal_error', 'internal error', { cause: err });
    if (!(err instanceof GatewayError))
      deps.logger.error({ msg: 'unhandled error', err: String(err), stack: err.stack });
    const record = c.get('record');
    const headers: Record<string, string> = { 'x-litellm-call-id': c.get('callId') ?? randomUUID() };
    if (record) {
      record.status = error.status;
      record.errorCode = error.code;
      finishRequest(deps, record);
      // What the gateway added to a refused request, as on an answered one.
      headers['x-litellm-overhead-duration-ms'] = (
        performance.now() -
        record.startedAt -
        record.upstreamMs
      ).toFixed(3);
    }
    return error.toResponse(headers);
  });
  return app;
}
