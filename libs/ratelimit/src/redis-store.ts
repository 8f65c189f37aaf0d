import type { Cluster, Redis } from 'ioredis';
import { createKeyLayout, type KeyLayout } from './keys.js';
import { type Geometry, geometry, limitArg, type WindowOptions } from './options.js';
import { admitScript } from './scripts/admit.js';
import { settleScript } from './scripts/settle.js';
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
type Scripts = Record<'admit' | 'settle' | 'cooldown' | 'heartbeat' | 'renew', ScriptCall>;

const BLOCK_REASONS: Readonly<Record<number, BlockReason>> = {
  1: 'gate_rpm',
  2: 'gate_tpm',
  3: 'gate_parallel',
  4: 'cooldown',
  5: 'no_capacity',
  6: 'account_missing',
  7: 'account_blocked',
  8: 'account_expired',
  9: 'account_budget',
};

let storeSeq = 0;

/**
 * Fleet state in Redis: every replica pointed at the same namespace shares every window, cooldown
 * and lease. Scripts are registered with `defineCommand`, so ioredis sends EVALSHA and falls back to
 * EVAL on NOSCRIPT; the window geometry is compiled into them, so calls carry only per-request data.
 * The client's own options decide timeouts and queueing (see the lib README).
 */
export function createRedisStore(client: RedisClient, options: RedisStoreOptions = {}): RedisFleetStore {
  const geo = geometry(options);
  const keys = createKeyLayout(options.namespace ?? 'fleetgate');
  const scripts = defineScripts(client, geo);
  const leases = createLeaseKeeper(scripts, geo.leaseMs);
  const settlements = createSettleBatcher(scripts, keys);

  async function admit(request: AdmitRequest): Promise<Admission> {
    const gates = request.gates ?? [];
    const subjects = gates.length === 0 ? request.candidates : [...request.candidates, ...gates];
    const account = request.account;
    const keyArgs: string[] = account ? [accountKey(keys, account.id)] : [];
    for (const s of subjects) {
      const k = keys.subject(s.id);
      keyArgs.push(k.state);
      if (limitArg(s.limits.tpm) > 0) keyArgs.push(k.ring);
      if (limitArg(s.limits.rpm) > 0) keyArgs.push(k.rpm);
      if (limitArg(s.limits.maxParallel) > 0) keyArgs.push(k.inflight);
    }
    const tokens = Math.max(0, Math.ceil(request.tokens));
    const cost = account ? Math.max(0, account.cost) : 0;
    const args: Array<string | number> = [keyArgs.length, ...keyArgs];
    args.push(request.candidates.length, gates.length, tokens, request.leaseId, account ? String(cost) : '');
    for (const s of subjects) args.push(packedLimits(s));
    const reply = (await scripts.admit(...args)) as Array<number | string>;
    if (reply[0] !== 1) {
      return {
        admitted: false,
        reason: BLOCK_REASONS[Number(reply[1] ?? 5)] ?? 'no_capacity',
        gateIndex: Number(reply[2] ?? 0) - 1,
        retryAfterMs: Math.max(0, Number(reply[3] ?? 0)),
        spend: reply[4] === undefined ? undefined : Number(reply[4]),
        limitValue: reply[5] === undefined ? undefined : Number(reply[5]),
      };
    }
    const index = Number(reply[1] ?? 1) - 1;
    const reserved =
      gates.length === 0 ? [request.candidates[index]!] : [request.candidates[index]!, ...gates];
    const ticket: Ticket = {
      subjects: reserved,
      bucket: Number(reply[2] ?? 0),
      tokens,
      leaseId: request.leaseId,
      mode: 'shared',
      account: account ? { id: account.id, cost, period: Number(reply[reply.length - 1]) } : undefined,
    };
    leases.hold(ticket, keys);
    const states = parseStates(reply as number[], reserved);
    return {
      admitted: true,
      index,
      ticket,
      states,
      spend: account ? Number(reply[reply.length - 2]) : undefined,
    };
  }

  return {
    keys,
    admit,
    settle(ticket, actualTokens, outcome, actualCost) {
      leases.release(ticket);
      return settlements.add(
        ticket,
        Math.max(0, Math.ceil(actualTokens)) - ticket.tokens,
        outcome,
        actualCost,
      );
    },
    async coolDown(subjectId, ms) {
      if (ms <= 0) return;
      await scripts.cooldown(keys.subject(subjectId).state, Math.ceil(ms));
    },
    async cooldowns(subjectIds) {
      if (subjectIds.length === 0) return [];
      const pipeline = client.pipeline();
      pipeline.time();
      for (const id of subjectIds) pipeline.hget(keys.subject(id).state, 'cool');
      const [clock, ...ends] = ((await pipeline.exec()) ?? []) as Array<[Error | null, unknown]>;
      const [seconds, micros] = (clock?.[1] as [string, string] | undefined) ?? ['0', '0'];
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      return ends.map(([error, end]) => (error || end == null ? 0 : Math.max(0, Number(end) - now)));
    },
    async heartbeat(replicaId, ttlMs) {
      return Number(await scripts.heartbeat(keys.replicas, replicaId, ttlMs));
    },
    async leave(replicaId) {
      await client.zrem(keys.replicas, replicaId);
    },
    mode: () => 'shared',
    async close() {
      leases.stop();
      await settlements.flushNow();
    },
  };
}

/** Registers the scripts under names unique to this geometry (several stores may share a client). */
function defineScripts(client: RedisClient, geo: Geometry): Scripts {
  const tag = `${geo.windowMs}_${geo.bucketMs}_${geo.leaseMs}_${++storeSeq}`;
  const define = (name: string, lua: string, numberOfKeys?: number) => {
    const command = `fleetgate_${name}_${tag}`;
    client.defineCommand(command, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    const fn = (client as unknown as Record<string, ScriptCall>)[command]!;
    return fn.bind(client) as ScriptCall;
  };
  return {
    admit: define('admit', admitScript(geo)),
    settle: define('settle', settleScript(geo)),
    cooldown: define('cooldown', COOLDOWN_LUA, 1),
    heartbeat: define('heartbeat', HEARTBEAT_LUA, 1),
    renew: define('renew', RENEW_LUA),
  };
}

/** An account's record key (the hash tag is the namespace's, like every other key). */
export function accountKey(keys: KeyLayout, id: string): string {
  return `${keys.prefix}account:${id}`;
}

const packed = new WeakMap<Subject, string>();

/** A subject's limits as admit.lua reads them, 'rpm:tpm:parallel'; cached, since subjects are long-lived. */
function packedLimits(s: Subject): string {
  let p = packed.get(s);
  if (p === undefined) {
    p = `${limitArg(s.limits.rpm)}:${limitArg(s.limits.tpm)}:${limitArg(s.limits.maxParallel)}`;
    packed.set(s, p);
  }
  return p;
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

interface Pending {
  readonly ticket: Ticket;
  readonly delta: number;
  readonly failed: boolean;
  readonly actualCost: number | undefined;
  readonly resolve: (counts: OutcomeCounts | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Settlements happen after responses, off the critical path, so they need not travel one by one:
 * those of a tick share one script call (up to 128), which halves the Redis calls per request under
 * load. A settlement with nothing to do — no tokens to correct, no lease, no failure — is skipped.
 */
function createSettleBatcher(scripts: Scripts, keys: KeyLayout) {
  let queue: Pending[] = [];
  let scheduled = false;
  const flush = (): Promise<void> => {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return Promise.resolve();
    const keyArgs: string[] = [];
    const args: Array<string | number> = [batch.length];
    for (const p of batch) {
      const t = p.ticket;
      const a = t.account;
      args.push(t.subjects.length, t.bucket, p.delta, t.leaseId, p.failed ? 1 : 0);
      args.push(a ? `${a.cost}:${p.actualCost ?? a.cost}:${a.period}` : '');
      if (a) keyArgs.push(accountKey(keys, a.id));
      for (const s of t.subjects) {
        const k = keys.subject(s.id);
        const tpm = limitArg(s.limits.tpm) > 0;
        const parallel = limitArg(s.limits.maxParallel) > 0;
        keyArgs.push(k.state);
        if (tpm) keyArgs.push(k.ring);
        if (parallel) keyArgs.push(k.inflight);
        args.push(tpm ? 1 : 0, parallel ? 1 : 0);
      }
    }
    return scripts.settle(keyArgs.length, ...keyArgs, ...args).then(
      (reply) => {
        const r = reply as number[];
        batch.forEach((p, i) => {
          p.resolve(p.failed ? { failures: r[2 * i] ?? 0, total: r[2 * i + 1] ?? 0 } : undefined);
        });
      },
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  };
  return {
    add(
      ticket: Ticket,
      delta: number,
      outcome: Outcome,
      actualCost: number | undefined,
    ): Promise<OutcomeCounts | undefined> {
      const failed = outcome === 'failure';
      const work =
        failed ||
        (ticket.account !== undefined && actualCost !== undefined && actualCost !== ticket.account.cost) ||
        ticket.subjects.some(
          (s) => limitArg(s.limits.maxParallel) > 0 || (delta !== 0 && limitArg(s.limits.tpm) > 0),
        );
      if (!work) return Promise.resolve(undefined);
      return new Promise((resolve, reject) => {
        queue.push({ ticket, delta, failed, actualCost, resolve, reject });
        if (queue.length >= 128) void flush();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    flushNow: flush,
  };
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
    scripts.renew(keyArgs.length, ...keyArgs, leaseMs, ...ids).catch(() => {
      // A failed renewal is retried on the next tick; the lease outlives two missed ticks.
    });
  };
  return {
    hold(ticket: Ticket, keys: KeyLayout) {
      const inflightKeys: string[] = [];
      for (const s of ticket.subjects) {
        if (limitArg(s.limits.maxParallel) > 0) inflightKeys.push(keys.subject(s.id).inflight);
      }
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
