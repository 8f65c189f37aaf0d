import type { Context, Hono } from 'hono';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';
import { headerReader } from '../headers.js';

/** What readiness reports; `shuttingDown` turns it into a 503 so load balancers drain this replica. */
export interface Readiness {
  readonly shuttingDown: boolean;
  /** 'redis' or 'memory' (no shared store configured). */
  readonly cache: string;
  /** 'shared' (limits kept in Redis for the fleet), or 'local' (no Redis, or Redis unreachable). */
  readonly fleetState: string;
  /** The local episode under way: since when (ms) and why. */
  readonly episode?: { readonly since: number; readonly reason: string } | undefined;
  readonly liveReplicas: number;
  readonly version: string;
}

/**
 * `/health/liveliness` answers as long as the process serves HTTP (LiteLLM's body, `"I'm alive!"`).
 * `/health/readiness` is LiteLLM's shape plus the fleet state: a replica limiting on its local share
 * because Redis is away still serves (200), and says `"status": "degraded"`. A replica configured
 * without Redis is `"healthy"` with `"fleet_state": "local"`: it limits alone, as it was told to.
 */
export function registerHealthRoutes(
  app: Hono<GatewayEnv>,
  readiness: () => Readiness,
  authenticate: ProxyDeps['authenticate'],
): void {
  const alive = () => new Response('"I\'m alive!"', { headers: { 'content-type': 'application/json' } });
  app.get('/health/liveliness', alive);
  app.get('/health/liveness', alive);
  const ready = (c: Context<GatewayEnv>) => {
    const r = readiness();
    const degraded = r.cache === 'redis' && r.fleetState !== 'shared';
    const status = r.shuttingDown ? 'shutting_down' : degraded ? 'degraded' : 'healthy';
    return c.json(
      {
        status,
        db: 'Not connected',
        cache: r.cache,
        litellm_version: r.version,
        success_callbacks: ['prometheus'],
        fleet_state: r.fleetState,
        ...(r.episode && {
          fleet_state_since: new Date(r.episode.since).toISOString(),
          fleet_state_reason: r.episode.reason,
        }),
        live_replicas: r.liveReplicas,
      },
      r.shuttingDown ? 503 : 200,
    );
  };
  app.get('/health/readiness', ready);
  // LiteLLM's authenticated variant (the same report; LiteLLM adds its diagnostics there).
  app.get('/health/readiness/details', async (c) => {
    await authenticate(headerReader(c));
    return ready(c);
  });
}
