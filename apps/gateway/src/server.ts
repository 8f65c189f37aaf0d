import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccountStore, FleetStore, FleetView } from '@fleetgate/ratelimit';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from './config/gateway-config.js';
import { createFleetState, type FleetState } from './fleet/create-store.js';
import { startReplicaReports } from './fleet-page/replica-report.js';
import { fleetSnapshot } from './fleet-page/snapshot.js';
import { createApp } from './http/app.js';
import { createAuthenticator } from './http/authenticate.js';
import type { Readiness } from './http/routes/health.js';
import { createDirectory } from './keys/directory.js';
import { createKeyAdmin } from './keys/key-admin.js';
import { createKeyCache } from './keys/key-cache.js';
import type { Logger } from './log.js';
import { joinClusterMetrics } from './metrics/cluster-metrics.js';
import { createMetrics, type GatewayMetrics } from './metrics/gateway-metrics.js';
import { readKeyBudgets, readTeamBudgets, readUserBudgets } from './metrics/key-budgets.js';
import { createAdmissionQueue } from './proxy/admission-queue.js';
import type { GatewayEnv, ProxyDeps } from './proxy/context.js';
import { createModelRouter } from './proxy/model-router.js';
import { createTeamAdmin } from './teams/team-admin.js';
import { createUpstreamAgent } from './upstream/client.js';
import { createUserAdmin } from './users/user-admin.js';
import { VERSION } from './version.js';

export interface GatewayServer {
  readonly port: number;
  readonly fleet: FleetState;
  /**
   * Stops accepting connections, lets in-flight requests (streams included) finish for up to the
   * grace period, then closes what is left and releases Redis and upstream pools.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly port: number;
  readonly host: string;
  /** @default 65 */
  readonly keepAliveSeconds?: number;
}

export interface AppParts {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly store: FleetStore;
  /** Virtual keys, teams and users (collections of this one store). @default none: only the master key authenticates */
  readonly accounts?: AccountStore;
  readonly replicaId: string;
  readonly metrics?: GatewayMetrics;
  readonly readiness?: () => Readiness;
  readonly gatherMetrics?: () => Promise<string>;
  /** @default a keep-alive undici Agent */
  readonly upstream?: Dispatcher;
  /** The fleet's state for the fleet page; without it `/fleet` is not served. */
  readonly view?: FleetView;
  /** What the fleet page says of the fleet's mode and store. @default local, memory */
  readonly fleetMode?: () => string;
  readonly storeKind?: 'redis' | 'memory';
  /**
   * The clock keys' expiry and budget resets are computed and checked with: Redis's, as the fleet
   * store estimates it, so the admin API, the key cache and the scripts agree. @default Date.now
   */
  readonly now?: () => number;
}

/** The app and everything its requests share, without a socket: what `app.request()` tests drive. */
export function createGatewayApp(parts: AppParts): { app: Hono<GatewayEnv>; deps: ProxyDeps } {
  const { config } = parts;
  const now = parts.now ?? Date.now;
  const keyCache = parts.accounts ? createKeyCache(parts.accounts) : undefined;
  const deps: ProxyDeps = {
    config,
    authenticate: createAuthenticator(config.masterKey, keyCache && { cache: keyCache, now }),
    router: createModelRouter(config),
    store: parts.store,
    upstream: parts.upstream ?? createUpstreamAgent(),
    metrics: parts.metrics ?? createMetrics(),
    logger: parts.logger,
    random: Math.random,
    cooldown: {
      cooldownMs: config.cooldownTimeMs,
      allowedFails: config.allowedFails,
      allowedFailsPolicy: config.routing.allowedFailsPolicy,
      disabled: config.disableCooldowns,
    },
    replicaId: parts.replicaId,
    queue: config.queue.waitMs > 0 ? createAdmissionQueue(config.queue.maxWaiting) : undefined,
  };
  const readiness =
    parts.readiness ??
    (() => ({
      shuttingDown: false,
      cache: 'memory',
      // Without a fleet behind it, the store this app runs on limits this process alone.
      fleetState: 'local',
      liveReplicas: 1,
      version: VERSION,
    }));
  let admin: Parameters<typeof createApp>[1]['admin'];
  const directory = parts.accounts ? createDirectory(parts.accounts) : undefined;
  if (directory) {
    const keys = createKeyAdmin(directory.keys, now);
    const teams = createTeamAdmin(directory, now);
    admin = { keys, teams, users: createUserAdmin(directory, keys, teams, now) };
  }
  const view = parts.view;
  const fleetPage = view && {
    masterKey: config.masterKey,
    viewerKey: config.viewerKey,
    snapshot: () =>
      fleetSnapshot({
        deployments: config.deployments,
        subject: (d) => deps.router.subject(d),
        view,
        directory,
        replicaId: parts.replicaId,
        version: VERSION,
        mode: parts.fleetMode ?? (() => 'local'),
        store: parts.storeKind ?? 'memory',
      }),
  };
  return {
    app: createApp(deps, { readiness, gatherMetrics: parts.gatherMetrics, admin, fleetPage }),
    deps,
  };
}

/** Builds the gateway (store, router, app) and listens. The server is created first and only then listens. */
export async function startGateway(options: StartOptions): Promise<GatewayServer> {
  const { config, logger } = options;
  const metrics = createMetrics();
  const gatherMetrics = cluster.isWorker ? joinClusterMetrics(metrics.registry) : undefined;
  const fleet = await createFleetState(config, logger, {
    event: (event, count) => metrics.storeEvent(event, count),
    episode: (reason) => metrics.episode(/connection down/.test(reason) ? 'connection_down' : 'no_reply'),
  });
  metrics.declareDeployments(config.deployments);
  metrics.watchFleet(() => ({ mode: fleet.mode(), store: fleet.cache, replicas: fleet.liveReplicas() }));
  metrics.watchBudgets(() => readKeyBudgets(fleet.accounts, metrics.servedKeys));
  const teams = fleet.accounts.collection('teams');
  metrics.watchTeamBudgets(() => readTeamBudgets(teams, metrics.servedTeams));
  const users = fleet.accounts.collection('users');
  metrics.watchUserBudgets(() => readUserBudgets(users, metrics.servedUsers));
  let shuttingDown = false;
  const { app, deps } = createGatewayApp({
    config,
    logger,
    metrics,
    store: fleet.store,
    accounts: fleet.accounts,
    replicaId: fleet.replicaId,
    gatherMetrics,
    view: fleet.view,
    fleetMode: fleet.mode,
    storeKind: fleet.cache,
    now: fleet.now,
    readiness: () => ({
      shuttingDown,
      cache: fleet.cache,
      fleetState: fleet.mode(),
      episode: fleet.episode(),
      liveReplicas: fleet.liveReplicas(),
      version: VERSION,
    }),
  });
  // The fleet page shows why a deployment cools down: the replica that cooled it down notes it.
  metrics.onCooldown((d, status, ms) => {
    const reason = status === undefined ? 'upstream unreachable' : `upstream answered ${status}`;
    fleet.view.noteCooldown(deps.router.subject(d).id, reason, ms).catch(() => {});
  });
  const upstream = deps.upstream;
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  // Longer than the load balancer's idle timeout, so it closes idle connections first and never
  // sends a request on one the gateway is closing (a 502 at the balancer).
  const keepAliveMs = (options.keepAliveSeconds ?? 65) * 1000;
  server.keepAliveTimeout = keepAliveMs;
  server.headersTimeout = keepAliveMs + 1_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const startedAt = new Date().toISOString();
  const stopReports = startReplicaReports({
    view: fleet.view,
    replicaId: fleet.replicaId,
    logger,
    read: () => ({
      version: VERSION,
      started_at: startedAt,
      mode: fleet.mode(),
      deployments: metrics.deploymentCounts(),
    }),
  });
  return {
    port,
    fleet,
    async close() {
      shuttingDown = true;
      // Keep serving while readiness says 503, so load balancers stop sending before the port closes.
      if (config.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
      await drain(server, config.shutdownGraceMs);
      stopReports();
      await Promise.allSettled([fleet.close(), upstream.close()]);
    },
  };
}

/** Closes the listener, then idle connections as they become idle, and after `graceMs` everything. */
async function drain(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const poll = setInterval(() => server.closeIdleConnections(), 50);
  const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  server.closeIdleConnections();
  const result = await Promise.race([closed, deadline]);
  clearInterval(poll);
  if (result === 'timeout') {
    server.closeAllConnections();
    await closed;
  }
}
