import type { Cluster, Redis } from 'ioredis';
import { admissionHeader, createAdmitBatcher } from './admit-batcher.js';
import { createKeyLayout, type KeyLayout } from './keys.js';
import { type Geometry, geometry, limitArg, type WindowOptions } from './options.js';
import { admitScript } from './scripts/admit.js';
import { settleScript } from './scripts/settle.js';
import { COOLDOWN_LUA, HEARTBEAT_LUA, RENEW_LUA } from './scripts/small.js';
import { hex12, STATE_COOL_OFFSET } from './scripts/window.js';
import { createSettleBatcher } from './settle-batcher.js';
import type {
  Admission,
  AdmitRequest,
  BlockReason,
  ChargedAccount,
  FleetStore,
  Subject,
  SubjectState,
  Ticket,
  WindowState,
} from './types.js';

export type RedisClient = Redis | Cluster;

export interface RedisStoreOptions extends WindowOptions {
  /** Isolates one fleet's keys (and each test's); becomes the `{hash tag}`. @default 'fleetgate' */
  readonly namespace?: string;
  /**
   * Send the admissions of one event-loop tick in one script call (each still atomic, in order).
   * Off, every admission is its own call. @default true
   */
  readonly batchAdmissions?: boolean;
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
  const settlements = createSettleBatcher((...args) => scripts.settle(...args), keys);
  const admissions = createAdmitBatcher((...args) => scripts.admit(...args), options.batchAdmissions ?? true);

  async function admit(request: AdmitRequest): Promise<Admission> {
    const gates = request.gates ?? [];
    // The script walks gates first, then candidates, and stops at the first candidate with room.
    const subjects = gates.length === 0 ? request.candidates : [...gates, ...request.candidates];
    const accounts = request.accounts;
    const tokens = Math.max(0, Math.ceil(request.tokens));
    const keyArgs: string[] = [];
    let costs = '';
    let charged: ChargedAccount[] | undefined;
    if (accounts && accounts.length > 0) {
      charged = [];
      for (const a of accounts) {
        keyArgs.push(keys.account(a.id));
        const cost = Number.isFinite(a.cost) ? Math.max(0, a.cost) : 0;
        // admit.lua's account argument: costs space-separated, '~' when the budget may not refuse.
        costs += `${costs === '' ? '' : ' '}${a.enforceBudget === false ? '~' : ''}${cost}`;
        charged.push({ id: a.id, cost, period: 0 });
      }
    }
    let parallel = false;
    let limits = '';
    for (const s of subjects) {
      const k = keys.subject(s.id);
      keyArgs.push(k.window);
      if (limitArg(s.limits.maxParallel) > 0) {
        keyArgs.push(k.inflight);
        parallel = true;
      }
      limits += packedLimits(s);
    }
    // Numbers as 12 hex digits. Text, not bytes: one Buffer argument turns ioredis's whole command
    // into slower buffer encoding.
    const reply = await admissions({
      keys: keyArgs,
      numbers: admissionHeader(keyArgs.length, request.candidates.length, gates.length, tokens) + limits,
      lease: parallel ? request.leaseId : '',
      cost: costs,
    });
    if (reply[0] !== 1) {
      const reason = BLOCK_REASONS[reply[1] ?? 5] ?? 'no_capacity';
      const which = (reply[2] ?? 0) - 1;
      const onAccount = reason.startsWith('account_');
      return {
        admitted: false,
        reason,
        gateIndex: onAccount ? -1 : which,
        accountIndex: onAccount ? which : -1,
        retryAfterMs: Math.max(0, reply[3] ?? 0),
        spend: reply[4],
        limitValue: reply[5],
      };
    }
    const index = Number(reply[1] ?? 1) - 1;
    const reserved =
      gates.length === 0 ? [request.candidates[index]!] : [request.candidates[index]!, ...gates];
    // Per account, after the subjects' states: its spend after the reservation, its budget period.
    const at = 3 + 6 * reserved.length;
    if (charged) {
      for (let j = 0; j < charged.length; j++)
        charged[j] = { ...charged[j]!, period: reply[at + 2 * j + 1] ?? 0 };
    }
    const ticket: Ticket = {
      subjects: reserved,
      bucket: Number(reply[2] ?? 0),
      tokens,
      leaseId: request.leaseId,
      mode: 'shared',
      accounts: charged,
    };
    leases.hold(ticket, keys);
    const states = parseStates(reply, reserved);
    return {
      admitted: true,
      index,
      ticket,
      states,
      spend: charged ? reply[at] : undefined,
    };
  }

  return {
    keys,
    admit,
    settle(ticket, actualTokens, outcome, actualCost) {
      leases.release(ticket);
      // Usage that is not a number leaves the reservation as it was (never a correction to -2^47).
      const used = Number.isFinite(actualTokens) ? Math.max(0, Math.ceil(actualTokens)) : ticket.tokens;
      return settlements.add(ticket, used - ticket.tokens, outcome, actualCost);
    },
    async coolDown(subjectId, ms) {
      if (ms <= 0) return;
      await scripts.cooldown(keys.subject(subjectId).window, Math.ceil(ms));
    },
    async cooldowns(subjectIds) {
      if (subjectIds.length === 0) return [];
      const pipeline = client.pipeline();
      pipeline.time();
      for (const id of subjectIds) pipeline.hgetBuffer(keys.subject(id).window, 's');
      const [clock, ...states] = ((await pipeline.exec()) ?? []) as Array<[Error | null, unknown]>;
      const [seconds, micros] = (clock?.[1] as [string, string] | undefined) ?? ['0', '0'];
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      return states.map(([error, state]) => Math.max(0, error ? 0 : cooldownEnd(state) - now));
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
  const define = (name: string, lua: string, numberOfKeys?: number, buffer = false) => {
    const command = `fleetgate_${name}_${tag}`;
    client.defineCommand(command, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    // ioredis adds a `<name>Buffer` twin that hands the reply over as bytes.
    const fn = (client as unknown as Record<string, ScriptCall>)[buffer ? `${command}Buffer` : command]!;
    return fn.bind(client) as ScriptCall;
  };
  return {
    admit: define('admit', admitScript(geo), undefined, true),
    settle: define('settle', settleScript(geo)),
    cooldown: define('cooldown', COOLDOWN_LUA, 1),
    heartbeat: define('heartbeat', HEARTBEAT_LUA, 1),
    renew: define('renew', RENEW_LUA),
  };
}

const packed = new WeakMap<Subject, string>();

/** A subject's limits as admit.lua reads them: rpm, tpm, parallel. Cached: subjects are long-lived. */
function packedLimits(s: Subject): string {
  let p = packed.get(s);
  if (p === undefined) {
    p = hex12(limitArg(s.limits.rpm)) + hex12(limitArg(s.limits.tpm)) + hex12(limitArg(s.limits.maxParallel));
    packed.set(s, p);
  }
  return p;
}

/** The cooldown end (ms) in a subject's packed state (scripts/window.ts); 0 when there is none. */
function cooldownEnd(state: unknown): number {
  return Buffer.isBuffer(state) && state.length >= STATE_COOL_OFFSET + 8
    ? state.readDoubleLE(STATE_COOL_OFFSET)
    : 0;
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
