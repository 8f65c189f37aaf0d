import { describeError, outcomeOf } from './call-outcome.js';
import { createEpisodeJournal } from './episode-journal.js';
import { createMemoryStore } from './memory-store.js';
import type { WindowOptions } from './options.js';
import type { RedisFleetStore } from './redis-store.js';
import type { Admission, AdmitRequest, FleetStore, OutcomeCounts, StoreMode, Subject } from './types.js';

export interface ResilientStoreOptions extends WindowOptions {
  /** The Redis store; give it a `replyTimeoutMs` so that no request waits on Redis for long. */
  readonly redis: RedisFleetStore;
  /** This replica's name in the heartbeat set; unique per process. */
  readonly replicaId: string;
  /** @default 2000 */
  readonly heartbeatMs?: number;
  /**
   * How long Redis may fail every call (no reply in time) before the replica declares a local
   * episode. A call that could not even be sent (the connection is down) declares it at once.
   * @default 1000
   */
  readonly localAfterMs?: number;
  /** Told once per switch, with the reason (for the log line and metrics). */
  readonly onModeChange?: (mode: StoreMode, reason: string) => void;
  /** Told when what was admitted locally has been written back into Redis (`all`: Redis had lost its data). */
  readonly onWriteBack?: (all: boolean) => void;
  /** The local store's clock. @default Redis's clock as the Redis store estimates it */
  readonly now?: () => number;
}

/** A local episode: since when (ms, Redis's clock) and why. */
export interface Episode {
  readonly since: number;
  readonly reason: string;
}

/** The resilient store, plus what health and metrics read from it. */
export interface ResilientStore extends FleetStore {
  /** Replicas alive at the last successful heartbeat (at least 1). */
  readonly liveReplicas: () => number;
  /** The local episode under way, if any. */
  readonly episode: () => Episode | undefined;
  /** Sends the first heartbeat now, so the replica count is known before traffic arrives. */
  start(): Promise<void>;
}

/** An admission whose reply did not come in time: refused, because Redis may hold it already. */
const UNKNOWN: Admission = { admitted: false, reason: 'unknown', gateIndex: -1, retryAfterMs: 1_000 };

/**
 * Shared state in Redis while Redis answers; a declared local episode while it does not.
 *
 * An admission whose reply is late has an unknown outcome: its request is refused (never served on
 * a guess, never counted twice) and the Redis store gives back whatever Redis admitted for it. Only
 * a sustained failure — a connection that is down, or no reply for `localAfterMs` — starts a local
 * episode: the replica then limits on its share of every limit (÷ the live replicas), counted in a
 * local store that already holds every admission this replica made through Redis in the window, so
 * its share is what it has not used yet. When Redis answers again, what the replica admitted on its
 * own (requests, tokens, leases, spend) is written back into the shared state, and if Redis lost its
 * data meanwhile (a new epoch), everything the replica admitted in the window is.
 */
export function createResilientStore(options: ResilientStoreOptions): ResilientStore {
  const { redis, replicaId } = options;
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const localAfterMs = options.localAfterMs ?? 1_000;
  const local = createMemoryStore({ ...options, mode: 'local', now: options.now ?? redis.now });
  const journal = createEpisodeJournal(redis, local, replicaId);
  let mode: StoreMode = 'shared';
  let episode: Episode | undefined;
  let replicas = 1;
  let epoch: string | undefined;
  let failingSince: number | undefined;
  let probeTimer: NodeJS.Timeout | undefined;

  const toLocal = (reason: string) => {
    if (mode === 'local') return;
    mode = 'local';
    episode = { since: redis.now(), reason };
    options.onModeChange?.('local', reason);
    probeTimer = setInterval(tryShared, Math.min(500, heartbeatMs));
    probeTimer.unref();
  };
  const replied = () => {
    failingSince = undefined;
  };
  /** Counts a failed Redis call; declares an episode when Redis is down or has not answered for long. */
  const failed = (what: string, error: unknown) => {
    const t = Date.now();
    failingSince ??= t;
    const message = describeError(error);
    if (outcomeOf(error) === 'not_sent') toLocal(`${what}: redis connection down (${message})`);
    else if (t - failingSince >= localAfterMs)
      toLocal(`${what}: no reply from redis for ${t - failingSince} ms (${message})`);
  };
  const toShared = () => {
    replied();
    if (mode === 'shared') return;
    mode = 'shared';
    episode = undefined;
    if (probeTimer) clearInterval(probeTimer);
    probeTimer = undefined;
    options.onModeChange?.('shared', 'redis answers again');
  };
  /** A heartbeat: the replica count, and a Redis that lost its data gets this replica's window back. */
  const beat = async () => {
    const hb = await redis.heartbeat(replicaId, heartbeatMs * 3);
    replied();
    replicas = Math.max(1, hb.replicas);
    const lost = epoch !== undefined && hb.epoch !== epoch;
    epoch = hb.epoch;
    // Settlements waiting to be sent again would correct windows Redis no longer has: the write-back
    // of everything this replica counted (corrections included) replaces them.
    if (lost) redis.dropResends();
    // Also in shared mode when the journal still holds something: requests admitted locally just
    // before the replica went back to Redis, or a write-back that failed.
    if (mode === 'local' || lost || journal.dirty()) {
      if (await journal.writeBack(lost)) options.onWriteBack?.(lost);
    }
  };
  let probing = false;
  async function tryShared() {
    if (probing) return;
    probing = true;
    try {
      await beat();
      toShared();
    } catch {
      // Still away; the next tick tries again.
    } finally {
      probing = false;
    }
  }
  async function heartbeat() {
    if (mode !== 'shared' || probing) return;
    probing = true;
    try {
      await beat();
    } catch (error) {
      failed('heartbeat', error);
    } finally {
      probing = false;
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
      slice: s.limits.slice && { ms: s.limits.slice.ms, max: shareOf(s.limits.slice.max, replicas)! },
    },
  });
  // Accounts live in Redis: while it is away the caller vouches for them from what it last read
  // (keys already verified stay usable); their spend is journaled and written back.
  async function localAdmit(request: AdmitRequest): Promise<Admission> {
    const a = await local.admit({
      ...request,
      accounts: undefined,
      candidates: request.candidates.map(share),
      gates: request.gates?.map(share),
    });
    if (!a.admitted) return a;
    const gates = request.gates ?? [];
    const ticket = {
      ...a.ticket,
      subjects: [request.candidates[a.index]!, ...gates],
      accounts: request.accounts?.map((c) => ({ id: c.id, cost: Math.max(0, c.cost), period: 0 })),
    };
    journal.admitted(ticket);
    return { ...a, ticket };
  }

  return {
    async admit(request) {
      if (mode === 'shared') {
        try {
          const admission = await redis.admit(request);
          replied();
          if (admission.admitted) local.record(admission.ticket);
          return admission;
        } catch (error) {
          failed('admission', error);
          // Redis may have admitted it: not served, given back by the Redis store if it was.
          if (outcomeOf(error) === 'unknown') return UNKNOWN;
        }
      }
      return localAdmit(request);
    },
    settle(ticket, actualTokens, outcome, actualCost, sample): Promise<OutcomeCounts | undefined> {
      if (ticket.mode === 'local') {
        const adopted = journal.settled(ticket, actualCost);
        if (!adopted) return local.settle(ticket, actualTokens, outcome, actualCost, sample);
        local.settleRecord(adopted.ticket, actualTokens);
        return redis.settle(adopted.ticket, actualTokens, outcome, adopted.cost, sample);
      }
      local.settleRecord(ticket, actualTokens);
      return redis.settle(ticket, actualTokens, outcome, actualCost, sample);
    },
    touch(ticket) {
      redis.touch(ticket);
    },
    async coolDown(subjectId, ms) {
      if (mode === 'shared') {
        try {
          return await redis.coolDown(subjectId, ms);
        } catch (error) {
          failed('cooldown', error);
        }
      }
      return local.coolDown(subjectId, ms);
    },
    async cooldowns(subjectIds) {
      if (mode === 'shared') {
        try {
          return await redis.cooldowns(subjectIds);
        } catch (error) {
          failed('cooldown read', error);
        }
      }
      return local.cooldowns(subjectIds);
    },
    mode: () => mode,
    episode: () => episode,
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

/** This replica's share of a fleet-wide limit: at least 1, so a tiny limit is not turned into none. */
export function shareOf(limit: number | undefined, replicas: number): number | undefined {
  if (limit === undefined || limit <= 0) return undefined;
  return Math.max(1, Math.floor(limit / replicas));
}
