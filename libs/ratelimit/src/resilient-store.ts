import { createMemoryStore } from './memory-store.js';
import type { WindowOptions } from './options.js';
import type { RedisFleetStore } from './redis-store.js';
import type { Admission, AdmitRequest, FleetStore, OutcomeCounts, StoreMode, Subject } from './types.js';

export interface ResilientStoreOptions extends WindowOptions {
  readonly redis: RedisFleetStore;
  /** Checks that Redis answers again (e.g. `() => client.ping()`), while serving locally. */
  readonly probe: () => Promise<unknown>;
  /** This replica's name in the heartbeat set; unique per process. */
  readonly replicaId: string;
  /** @default 2000 */
  readonly heartbeatMs?: number;
  /**
   * Consecutive failed calls (timeouts) before the replica switches to local shares. A failed call
   * is always served locally; one slow reply (a GC pause, a starved CPU) does not flip the replica.
   * A closed connection switches at once. @default 3
   */
  readonly failuresBeforeLocal?: number;
  /** Told once per switch, with the reason (for the log line and metrics). */
  readonly onModeChange?: (mode: StoreMode, reason: string) => void;
  /** Injected clock for the local store. @default Date.now */
  readonly now?: () => number;
}

/** The resilient store, plus what health and metrics read from it. */
export interface ResilientStore extends FleetStore {
  /** Replicas alive at the last successful heartbeat (at least 1). */
  readonly liveReplicas: () => number;
  /** Sends the first heartbeat now, so the replica count is known before traffic arrives. */
  start(): Promise<void>;
}

/**
 * Shared state in Redis while Redis answers; a local limiter while it does not. Any failed or
 * timed-out Redis call switches this replica to a memory store holding its share of every quota
 * (limit ÷ live replicas, the count last learned from heartbeats), and a probe switches it back
 * when Redis answers. A call that timed out may have run on the server, so it is never refunded:
 * erring toward under-admission keeps the fleet under the providers' quotas.
 */
export function createResilientStore(options: ResilientStoreOptions): ResilientStore {
  const { redis, probe, replicaId } = options;
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const failuresBeforeLocal = options.failuresBeforeLocal ?? 3;
  let mode: StoreMode = 'shared';
  let replicas = 1;
  let failStreak = 0;
  let local: FleetStore | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  const localStore = () => {
    local ??= createMemoryStore({ ...options, mode: 'local' });
    return local;
  };

  const toLocal = (reason: string) => {
    if (mode === 'local') return;
    mode = 'local';
    localStore();
    options.onModeChange?.('local', reason);
    probeTimer = setInterval(tryShared, Math.min(500, heartbeatMs));
    probeTimer.unref();
  };
  /** Counts a failed Redis call; switches to local shares when Redis looks gone rather than slow. */
  const failed = (what: string, error: unknown) => {
    failStreak++;
    const message = describe(error);
    if (failStreak >= failuresBeforeLocal || CONNECTION_GONE.test(message))
      toLocal(`${what} failed: ${message}`);
  };
  const toShared = () => {
    failStreak = 0;
    if (mode === 'shared') return;
    mode = 'shared';
    local = undefined;
    if (probeTimer) clearInterval(probeTimer);
    probeTimer = undefined;
    options.onModeChange?.('shared', 'redis answers again');
  };
  let probing = false;
  async function tryShared() {
    if (probing) return;
    probing = true;
    try {
      await probe();
      replicas = Math.max(1, await redis.heartbeat(replicaId, heartbeatMs * 3));
      toShared();
    } catch {
      // Still away; the next tick tries again.
    } finally {
      probing = false;
    }
  }
  async function heartbeat() {
    if (mode !== 'shared') return;
    try {
      replicas = Math.max(1, await redis.heartbeat(replicaId, heartbeatMs * 3));
    } catch (error) {
      failed('heartbeat', error);
    }
  }
  const heartbeatTimer = setInterval(heartbeat, heartbeatMs);
  heartbeatTimer.unref();

  const share = (s: Subject): Subject => ({
    id: s.id,
    limits: {
      rpm: shareOf(s.limits.rpm, replicas),
      tpm: shareOf(s.limits.tpm, replicas),
      maxParallel: shareOf(s.limits.maxParallel, replicas),
    },
  });
  // Accounts live in Redis: while it is away the caller vouches for the account from what it last
  // read (keys already verified stay usable), and the local store only holds windows.
  const localAdmit = (request: AdmitRequest): Promise<Admission> =>
    localStore().admit({
      ...request,
      accounts: undefined,
      candidates: request.candidates.map(share),
      gates: request.gates?.map(share),
    });

  return {
    async admit(request) {
      if (mode === 'shared') {
        try {
          const admission = await redis.admit(request);
          failStreak = 0;
          return admission;
        } catch (error) {
          failed('admission', error);
        }
      }
      return localAdmit(request);
    },
    async settle(ticket, actualTokens, outcome, actualCost): Promise<OutcomeCounts | undefined> {
      if (ticket.mode === 'local') return local?.settle(ticket, actualTokens, outcome, actualCost);
      try {
        return await redis.settle(ticket, actualTokens, outcome, actualCost);
      } catch {
        // The reservation stays counted until its window passes and the lease expires: never refunded twice.
        return undefined;
      }
    },
    async coolDown(subjectId, ms) {
      if (mode === 'shared') {
        try {
          return await redis.coolDown(subjectId, ms);
        } catch (error) {
          failed('cooldown', error);
        }
      }
      return localStore().coolDown(subjectId, ms);
    },
    async cooldowns(subjectIds) {
      if (mode === 'shared') {
        try {
          return await redis.cooldowns(subjectIds);
        } catch (error) {
          failed('cooldown read', error);
        }
      }
      return localStore().cooldowns(subjectIds);
    },
    mode: () => mode,
    liveReplicas: () => replicas,
    start: heartbeat,
    async close() {
      clearInterval(heartbeatTimer);
      if (probeTimer) clearInterval(probeTimer);
      if (mode === 'shared') await redis.leave(replicaId).catch(() => {});
      await redis.close();
    },
  };
}

/** ioredis's words for a connection that is down (not merely slow): switch to local at once. */
const CONNECTION_GONE = /isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH/;

/** This replica's share of a fleet-wide limit: at least 1, so a tiny limit is not turned into none. */
export function shareOf(limit: number | undefined, replicas: number): number | undefined {
  if (limit === undefined || limit <= 0) return undefined;
  return Math.max(1, Math.floor(limit / replicas));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
