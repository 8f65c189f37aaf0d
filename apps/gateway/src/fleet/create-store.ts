import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type AccountStore,
  createMemoryFleetView,
  createMemoryStore,
  createRedisAccounts,
  createRedisFleetView,
  createRedisStore,
  createResilientStore,
  type Episode,
  type FleetStore,
  type FleetView,
  MemoryAccounts,
  type StoreEvent,
  type StoreMode,
} from '@fleetgate/ratelimit';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Logger } from '../log.js';
import { createRedisClient, waitUntilReady } from './redis-client.js';

/** The fleet store the gateway runs on, with what health and shutdown need from it. */
export interface FleetState {
  readonly store: FleetStore;
  /** Virtual keys: in Redis next to the windows, or in memory for a replica without Redis. */
  readonly accounts: AccountStore;
  readonly replicaId: string;
  readonly cache: 'redis' | 'memory';
  /**
   * 'shared' while limits are kept in Redis for the whole fleet; 'local' when this replica limits
   * alone: there is no Redis (configured that way), or Redis is unreachable (a degraded episode).
   */
  readonly mode: () => StoreMode;
  /** Read-only fleet state for the fleet page and metrics. */
  readonly view: FleetView;
  /** The local episode under way (Redis away), if any. */
  readonly episode: () => Episode | undefined;
  readonly liveReplicas: () => number;
  /**
   * The one clock for everything that expires: Redis's (`TIME`), as estimated from its replies; the
   * local clock without Redis. Keys' expiry and budget resets are computed with it.
   */
  readonly now: () => number;
  close(): Promise<void>;
}

/** What the fleet state reports as it happens, for metrics. */
export interface FleetHooks {
  /** Redis trouble the store handled (an admission given back, a settlement sent again, …). */
  readonly event?: (event: StoreEvent, count: number) => void;
  /** A local episode began, with its reason. */
  readonly episode?: (reason: string) => void;
}

/** A late reply is still awaited (and used) this long, at least: see the lib README. */
const LATE_REPLY_MS = 2_000;

/**
 * Redis when the config names one (shared by every replica, with a local fallback while it is
 * away), else the in-memory store, which limits this replica alone.
 */
export async function createFleetState(
  config: GatewayConfig,
  logger: Logger,
  hooks: FleetHooks = {},
): Promise<FleetState> {
  const replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const geometry = { leaseMs: config.leaseMs, marginMs: config.providerMarginMs };
  if (!config.redis) {
    const accounts = new MemoryAccounts();
    const store = createMemoryStore({ ...geometry, accounts });
    return {
      store,
      accounts,
      replicaId,
      cache: 'memory',
      // No shared store at all: this replica's limits are its own.
      mode: () => 'local',
      view: createMemoryFleetView((id, t) => store.inspect(id, t)),
      episode: () => undefined,
      liveReplicas: () => 1,
      now: Date.now,
      close: () => store.close(),
    };
  }
  // Admin reads and writes wait at most the command timeout; the fleet store's scripts get a client
  // of their own that keeps listening for late replies (each request still waits only the timeout).
  const client = createRedisClient(config.redis, config.redisCommandTimeoutMs);
  const fleetClient = createRedisClient(
    config.redis,
    Math.max(LATE_REPLY_MS, 10 * config.redisCommandTimeoutMs),
  );
  for (const c of [client, fleetClient])
    c.on('error', () => {
      // Connection errors surface as failed commands (see the fleet store); ioredis reconnects.
    });
  const ready = (await Promise.all([client, fleetClient].map((c) => waitUntilReady(c, 3_000)))).every(
    Boolean,
  );
  const redis = createRedisStore(fleetClient, {
    ...geometry,
    namespace: config.redisNamespace,
    replicaId,
    replyTimeoutMs: config.redisCommandTimeoutMs,
    onEvent: (event, count) => {
      hooks.event?.(event, count);
      if (event === 'settlement_lost' || event === 'admission_unresolved')
        logger.warn({ msg: `redis trouble: ${event.replace('_', ' ')}`, count });
    },
  });
  const store = createResilientStore({
    ...geometry,
    redis,
    replicaId,
    localAfterMs: Math.max(1_000, 5 * config.redisCommandTimeoutMs),
    onModeChange: (mode: StoreMode, reason: string) => {
      if (mode === 'local') {
        hooks.episode?.(reason);
        logger.error({
          msg: "redis unreachable: limiting on this replica's local share of every quota",
          reason,
          live_replicas: store.liveReplicas(),
        });
      } else {
        logger.info({ msg: 'redis reachable again: back to fleet-wide limits' });
      }
    },
    onWriteBack: (all) =>
      logger.info({
        msg: all
          ? 'redis lost its data: wrote back everything this replica admitted in the window'
          : 'wrote back into redis what this replica admitted on its own',
      }),
  });
  if (!ready)
    logger.error({
      msg: 'redis did not answer within 3 s at startup; serving on local shares until it does',
    });
  await store.start();
  return {
    store,
    accounts: createRedisAccounts(client, { namespace: config.redisNamespace, now: redis.now }),
    replicaId,
    cache: 'redis',
    mode: store.mode,
    view: createRedisFleetView(client, redis.keys, geometry),
    episode: store.episode,
    liveReplicas: store.liveReplicas,
    now: redis.now,
    async close() {
      await store.close();
      client.disconnect();
      fleetClient.disconnect();
    },
  };
}
