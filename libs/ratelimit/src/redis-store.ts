import type { Cluster, Redis } from 'ioredis';
import { createKeyLayout, type KeyLayout } from './keys.js';
import { geometry, limitArg, type WindowOptions } from './options.js';
import { ADMIT_LUA } from './scripts/admit.js';
import { SETTLE_LUA } from './scripts/settle.js';
import { COOLDOWN_LUA, HEARTBEAT_LUA, RENEW_LUA } from './scripts/small.js';
import type {
  Admission,
  AdmitRequest,
  BlockReason,
  FleetStore,
  Outcome,
  OutcomeCounts,
  Subject,
  SubjectState,
  Ticket,
  WindowState,
} from './types.js';

export type RedisClient = Redis | Cluster;

export interface RedisStoreOptions extends WindowOptions {
  /** Isolates one fleet's keys (and each test's); becomes the `{hash tag}`. @default 'fleetgate' */
  readonly namespace?: string;
}

/** The Redis store, plus the fleet-membership calls the resilient wrapper uses. */
export interface RedisFleetStore extends FleetStore {
  /** Announces this replica for `ttlMs`; returns how many replicas are alive. */
  heartbeat(replicaId: string, ttlMs: number): Promise<number>;
  /** Removes this replica from the live set at once (a clean shutdown), so the others' shares grow now. */
  leave(replicaId: string): Promise<void>;
  readonly keys: KeyLayout;
}

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;
interface Scripts {
  fleetgateAdmit: ScriptCall;
  fleetgateSettle: ScriptCall;
  fleetgateCooldown: ScriptCall;
  fleetgateHeartbeat: ScriptCall;
  fleetgateRenew: ScriptCall;
}

const BLOCK_REASONS: Readonly<Record<number, BlockReason>> = {
  1: 'gate_rpm',
  2: 'gate_tpm',
  3: 'gate_parallel',
  4: 'cooldown',
  5: 'no_capacity',
};

/**
 * Fleet state in Redis: every replica pointed at the same namespace shares every window, cooldown
 * and lease. Scripts are registered with `defineCommand`, so ioredis sends EVALSHA and falls back to
 * EVAL on NOSCRIPT. The client's own options decide timeouts and queueing (see the lib README).
 */
export function createRedisStore(client: RedisClient, options: RedisStoreOptions = {}): RedisFleetStore {
  const geo = geometry(options);
  const keys = createKeyLayout(options.namespace ?? 'fleetgate');
  client.defineCommand('fleetgateAdmit', { lua: ADMIT_LUA });
  client.defineCommand('fleetgateSettle', { lua: SETTLE_LUA });
  client.defineCommand('fleetgateCooldown', { lua: COOLDOWN_LUA, numberOfKeys: 1 });
  client.defineCommand('fleetgateHeartbeat', { lua: HEARTBEAT_LUA, numberOfKeys: 1 });
  client.defineCommand('fleetgateRenew', { lua: RENEW_LUA });
  const scripts = client as unknown as Scripts;
  const leases = createLeaseKeeper(scripts, geo.leaseMs);
  const windowArgs = [geo.windowMs, geo.bucketMs, geo.leaseMs] as const;

  async function admit(request: AdmitRequest): Promise<Admission> {
    const gates = request.gates ?? [];
    const subjects = gates.length === 0 ? request.candidates : [...request.candidates, ...gates];
    const args: Array<string | number> = [subjects.length * 4];
    for (const s of subjects) args.push(...keys.subject(s.id));
    args.push(
      request.candidates.length,
      gates.length,
      Math.max(0, Math.ceil(request.tokens)),
      request.leaseId,
    );
    args.push(...windowArgs);
    for (const s of subjects)
      args.push(limitArg(s.limits.rpm), limitArg(s.limits.tpm), limitArg(s.limits.maxParallel));
    const reply = (await scripts.fleetgateAdmit(...args)) as number[];
    if (reply[0] !== 1) {
      return {
        admitted: false,
        reason: BLOCK_REASONS[reply[1] ?? 5] ?? 'no_capacity',
        gateIndex: (reply[3 - 1] ?? 0) - 1,
        retryAfterMs: Math.max(0, reply[3] ?? 0),
      };
    }
    const index = (reply[1] ?? 1) - 1;
    const reserved = [request.candidates[index]!, ...gates];
    const ticket: Ticket = {
      subjects: reserved,
      bucket: reply[2] ?? 0,
      tokens: Math.max(0, Math.ceil(request.tokens)),
      leaseId: request.leaseId,
      mode: 'shared',
    };
    leases.hold(ticket, keys);
    return { admitted: true, index, ticket, states: parseStates(reply, reserved) };
  }

  async function settle(ticket: Ticket, actualTokens: number, outcome: Outcome): Promise<OutcomeCounts> {
    leases.release(ticket);
    const n = ticket.subjects.length;
    const args: Array<string | number> = [n * 2 + 1];
    for (const s of ticket.subjects) {
      const [, tpm, inflight] = keys.subject(s.id);
      args.push(tpm, inflight);
    }
    args.push(keys.outcomes(ticket.subjects[0]!.id));
    const delta = Math.max(0, Math.ceil(actualTokens)) - ticket.tokens;
    const outcomeArg = outcome === 'success' ? 1 : outcome === 'failure' ? 0 : -1;
    args.push(n, ticket.bucket, delta, ticket.leaseId, geo.windowMs, geo.bucketMs, outcomeArg);
    for (const s of ticket.subjects)
      args.push(limitArg(s.limits.tpm) > 0 ? 1 : 0, limitArg(s.limits.maxParallel) > 0 ? 1 : 0);
    const [failures = 0, total = 0] = (await scripts.fleetgateSettle(...args)) as number[];
    return { failures, total };
  }

  return {
    keys,
    admit,
    settle,
    async coolDown(subjectId, ms) {
      if (ms <= 0) return;
      await scripts.fleetgateCooldown(keys.subject(subjectId)[3], Math.ceil(ms));
    },
    async cooldowns(subjectIds) {
      if (subjectIds.length === 0) return [];
      const pipeline = client.pipeline();
      for (const id of subjectIds) pipeline.pttl(keys.subject(id)[3]);
      const results = (await pipeline.exec()) ?? [];
      return results.map(([error, ttl]) => (error ? 0 : Math.max(0, Number(ttl))));
    },
    async heartbeat(replicaId, ttlMs) {
      return Number(await scripts.fleetgateHeartbeat(keys.replicas, replicaId, ttlMs));
    },
    async leave(replicaId) {
      await client.zrem(keys.replicas, replicaId);
    },
    mode: () => 'shared',
    async close() {
      leases.stop();
    },
  };
}

function parseStates(reply: readonly number[], reserved: readonly Subject[]): SubjectState[] {
  const states: SubjectState[] = [];
  for (let i = 0; i < reserved.length; i++) {
    const a = 3 + 6 * i;
    states.push({ requests: windowState(reply, a), tokens: windowState(reply, a + 3) });
  }
  return states;
}

function windowState(reply: readonly number[], at: number): WindowState | undefined {
  const limit = reply[at] ?? 0;
  if (limit <= 0) return undefined;
  return { limit, remaining: reply[at + 1] ?? 0, resetMs: Math.max(0, reply[at + 2] ?? 0) };
}

/**
 * Renews the leases of this replica's requests still in flight every third of a lease, so a long
 * stream keeps its slot while a crashed replica's slots expire within one lease.
 */
function createLeaseKeeper(scripts: Scripts, leaseMs: number) {
  const held = new Map<string, string[]>();
  let timer: NodeJS.Timeout | undefined;
  const renew = () => {
    if (held.size === 0) return;
    const keyArgs: string[] = [];
    const ids: string[] = [];
    for (const [leaseId, inflightKeys] of held) {
      for (const k of inflightKeys) {
        keyArgs.push(k);
        ids.push(leaseId);
      }
    }
    scripts.fleetgateRenew(keyArgs.length, ...keyArgs, leaseMs, ...ids).catch(() => {
      // A failed renewal is retried on the next tick; the lease outlives two missed ticks.
    });
  };
  return {
    hold(ticket: Ticket, keys: KeyLayout) {
      const inflightKeys: string[] = [];
      for (const s of ticket.subjects)
        if (limitArg(s.limits.maxParallel) > 0) inflightKeys.push(keys.subject(s.id)[2]);
      if (inflightKeys.length === 0) return;
      held.set(ticket.leaseId, inflightKeys);
      if (!timer) {
        timer = setInterval(renew, Math.max(1, Math.floor(leaseMs / 3)));
        timer.unref();
      }
    },
    release(ticket: Ticket) {
      held.delete(ticket.leaseId);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      held.clear();
    },
  };
}
