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
  type FleetStore,
  type FleetView,
  MemoryAccounts,
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
  readonly liveReplicas: () => number;
  close(): Promise<void>;
}

/**
 * Redis when the config names one (shared by every replica, with a local fallback while it is
 * away), else the in-memory store, which limits this replica alone.
 */
export async function createFleetState(config: GatewayConfig, logger: Logger): Promise<FleetState> {
  const replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  if (!config.redis) {
    const accounts = new MemoryAccounts();
    const store = createMemoryStore({ leaseMs: config.leaseMs, accounts });
    return {
      store,
      accounts,
      replicaId,
      cache: 'memory',
      // No shared store at all: this replica's limits are its own.
      mode: () => 'local',
      view: createMemoryFleetView((id, t) => store.inspect(id, t)),
      liveReplicas: () => 1,
      close: () => store.close(),
    };
  }
  const client = createRedisClient(config.redis, config.redisCommandTimeoutMs);
  client.on('error', () => {
    // Connection errors surface as failed commands and switch the store to local; ioredis reconnects.
  });
  const ready = await waitUntilReady(client, 3_000);
  const redis = createRedisStore(client, { leaseMs: config.leaseMs, namespace: config.redisNamespace });
  const store = createResilientStore({
    redis,
    probe: () => client.ping(),
    replicaId,
    leaseMs: config.leaseMs,
    onModeChange: (mode: StoreMode, reason: string) => {
      if (mode === 'local') {
        logger.error({
          msg: "redis unreachable: limiting on this replica's local share of every quota",
          reason,
          live_replicas: store.liveReplicas(),
        });
      } else {
        logger.info({ msg: 'redis reachable again: back to fleet-wide limits' });
      }
    },
  });
  if (!ready)
    logger.error({
      msg: 'redis did not answer within 3 s at startup; serving on local shares until it does',
    });
  await store.start();
  return {
    store,
    accounts: createRedisAccounts(client, { namespace: config.redisNamespace }),
    replicaId,
    cache: 'redis',
    mode: store.mode,
    view: createRedisFleetView(client, redis.keys, { leaseMs: config.leaseMs }),
    liveReplicas: store.liveReplicas,
    async close() {
      await store.close();
      client.disconnect();
    },
  };
}
