import type { MemorySubjectState } from './fleet-view.js';
import type { MemoryAccounts } from './memory-accounts.js';
import { type Geometry, geometry, limitArg, type WindowOptions } from './options.js';
import type {
  Admission,
  AdmitRequest,
  ChargedAccount,
  FleetStore,
  Outcome,
  OutcomeCounts,
  StoreMode,
  Subject,
  SubjectState,
  Ticket,
} from './types.js';

export interface MemoryStoreOptions extends WindowOptions {
  /** Milliseconds since the epoch; injected so tests drive time. @default Date.now */
  readonly now?: () => number;
  /** What `mode()` reports: 'shared' when this is the only store, 'local' as Redis's stand-in. @default 'shared' */
  readonly mode?: StoreMode;
  /** Accounts that admissions with an `account` are checked and charged against. @default none */
  readonly accounts?: MemoryAccounts | undefined;
}

/** Per-subject state: the same structures the Redis scripts keep, in process memory. */
interface SubjectWindows {
  /** Bucket index → tokens and requests, the counted totals, and the oldest counted bucket. */
  buckets: Map<number, Bucket>;
  tokens: number;
  requests: number;
  first: number | undefined;
  /**
   * Requests in flight, until they settle. No expiry: the holder is this process, so a lease can
   * only outlive its request through a bug, while a long stream must keep its slot (the Redis
   * store renews its leases for the same reason; there a dead replica's leases do expire).
   */
  leases: Set<string>;
  cooldownUntil: number;
  /** This minute's calls (counted at admission) and failures (counted at settlement). */
  outcomeMinute: number;
  calls: number;
  fail: number;
}

/** The memory store, plus a read-only look at one subject for the fleet view (fleet-view.ts). */
export interface MemoryFleetStore extends FleetStore {
  inspect(id: string, now: number): MemorySubjectState;
}

/**
 * The in-memory twin of the Redis store, with the same algorithms and answers: the embedded default
 * for a single replica, and the local fallback while Redis is unreachable.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryFleetStore {
  const geo = geometry(options);
  const now = options.now ?? Date.now;
  const mode = options.mode ?? 'shared';
  const subjects = new Map<string, SubjectWindows>();
  const windows = (id: string): SubjectWindows => {
    let w = subjects.get(id);
    if (!w) {
      w = {
        buckets: new Map(),
        tokens: 0,
        requests: 0,
        first: undefined,
        leases: new Set(),
        cooldownUntil: 0,
        outcomeMinute: -1,
        calls: 0,
        fail: 0,
      };
      subjects.set(id, w);
    }
    return w;
  };
  let sweepAt = 0;

  function admit(request: AdmitRequest): Promise<Admission> {
    const t = now();
    if (t >= sweepAt) sweepAt = sweep(subjects, t, geo);
    const gates = request.gates ?? [];
    const tokens = Math.max(0, Math.ceil(request.tokens));
    const accounts = request.accounts ?? [];
    for (let j = 0; j < accounts.length; j++) {
      const a = accounts[j]!;
      const check = options.accounts?.charge(a.id, a.cost, false, a.enforceBudget !== false) ?? {
        ok: false,
        reason: 'account_missing',
      };
      if (!check.ok) {
        return Promise.resolve({
          admitted: false,
          reason: check.reason,
          gateIndex: -1,
          accountIndex: j,
          retryAfterMs: 0,
          spend: check.spend,
          limitValue: check.limitValue,
        });
      }
    }
    for (let g = 0; g < gates.length; g++) {
      const reason = check(windows(gates[g]!.id), gates[g]!, tokens, t, geo, false);
      if (reason)
        return Promise.resolve({
          admitted: false,
          reason: (['gate_rpm', 'gate_tpm', 'gate_parallel'] as const)[reason.code - 1]!,
          gateIndex: g,
          retryAfterMs: reason.waitMs,
        });
    }
    let soonest: number | undefined;
    let cooling = 0;
    for (let i = 0; i < request.candidates.length; i++) {
      const subject = request.candidates[i]!;
      const reason = check(windows(subject.id), subject, tokens, t, geo, true);
      if (reason) {
        if (reason.code === 4) cooling++;
        if (soonest === undefined || reason.waitMs < soonest) soonest = reason.waitMs;
        continue;
      }
      const reserved = [subject, ...gates];
      const states = reserved.map((s) => reserve(windows(s.id), s, tokens, request.leaseId, t, geo));
      countCall(windows(subject.id), t);
      let charged: ChargedAccount[] | undefined;
      let spend: number | undefined;
      for (const a of accounts) {
        const c = options.accounts?.charge(a.id, a.cost, true, a.enforceBudget !== false);
        if (!c?.ok) continue;
        charged ??= [];
        charged.push({ id: a.id, cost: Math.max(0, a.cost), period: c.period });
        spend ??= c.spend;
      }
      const ticket: Ticket = {
        subjects: reserved,
        bucket: Math.floor(t / geo.bucketMs),
        tokens,
        leaseId: request.leaseId,
        mode,
        accounts: charged,
      };
      return Promise.resolve({ admitted: true, index: i, ticket, states, spend });
    }
    const allCooling = request.candidates.length > 0 && cooling === request.candidates.length;
    return Promise.resolve({
      admitted: false,
      reason: allCooling ? 'cooldown' : 'no_capacity',
      gateIndex: -1,
      retryAfterMs: soonest ?? 0,
    });
  }

  function settle(
    ticket: Ticket,
    actualTokens: number,
    outcome: Outcome,
    actualCost?: number,
  ): Promise<OutcomeCounts | undefined> {
    for (const a of ticket.accounts ?? [])
      options.accounts?.settle(a.id, a.cost, actualCost ?? a.cost, a.period);
    const t = now();
    const delta = Math.max(0, Math.ceil(actualTokens)) - ticket.tokens;
    const first = Math.floor(t / geo.bucketMs) - geo.k;
    for (const s of ticket.subjects) {
      const w = windows(s.id);
      if (limitArg(s.limits.tpm) > 0 && delta !== 0 && ticket.bucket >= first) {
        forget(w, t, geo);
        const b = w.first === undefined ? undefined : w.buckets.get(ticket.bucket);
        if (b) {
          const d = b.tokens + delta < 0 ? -b.tokens : delta;
          b.tokens += d;
          w.tokens += d;
        }
      }
      w.leases.delete(ticket.leaseId);
    }
    if (outcome !== 'failure') return Promise.resolve(undefined);
    const w = windows(ticket.subjects[0]!.id);
    // If the call was counted in a minute that has passed, this failure opens the new one.
    openMinute(w, t);
    w.fail++;
    // A failed call is a call, even one admitted in the minute before (as settle.lua counts).
    if (w.calls < w.fail) w.calls = w.fail;
    return Promise.resolve({ failures: w.fail, total: w.calls });
  }

  return {
    admit,
    settle,
    coolDown(subjectId, ms) {
      if (ms > 0) {
        const w = windows(subjectId);
        w.cooldownUntil = Math.max(w.cooldownUntil, now() + Math.ceil(ms));
      }
      return Promise.resolve();
    },
    cooldowns(subjectIds) {
      const t = now();
      return Promise.resolve(subjectIds.map((id) => Math.max(0, (subjects.get(id)?.cooldownUntil ?? 0) - t)));
    },
    mode: () => mode,
    close: () => Promise.resolve(),
    inspect(id, t) {
      const w = subjects.get(id);
      if (!w) return { requests: 0, tokens: 0, leases: 0, cooldownUntil: 0 };
      forget(w, t, geo);
      return {
        requests: w.requests,
        tokens: w.tokens,
        leases: w.leases.size,
        cooldownUntil: w.cooldownUntil,
      };
    },
  };
}

/** Admission counts the call in the chosen candidate's minute, as admit.lua does. */
function countCall(w: SubjectWindows, t: number): void {
  openMinute(w, t);
  w.calls++;
}

/** Starts the outcome counts afresh when the minute they belong to has passed. */
function openMinute(w: SubjectWindows, t: number): void {
  const minute = Math.floor(t / 60_000);
  if (w.outcomeMinute !== minute) {
    w.outcomeMinute = minute;
    w.calls = 0;
    w.fail = 0;
  }
}

interface Bucket {
  tokens: number;
  requests: number;
}

interface Block {
  /** 1 rpm, 2 tpm, 3 parallel, 4 cooldown — as admit.lua. */
  readonly code: 1 | 2 | 3 | 4;
  readonly waitMs: number;
}

function check(
  w: SubjectWindows,
  s: Subject,
  tokens: number,
  t: number,
  geo: Geometry,
  candidate: boolean,
): Block | undefined {
  if (candidate && w.cooldownUntil > t) return { code: 4, waitMs: w.cooldownUntil - t };
  forget(w, t, geo);
  const rpm = limitArg(s.limits.rpm);
  if (rpm > 0 && w.requests >= rpm) {
    return { code: 1, waitMs: waitFor(w, w.requests + 1 - rpm, 'requests', t, geo) };
  }
  const tpm = limitArg(s.limits.tpm);
  if (tpm > 0 && w.tokens + tokens > tpm) {
    return { code: 2, waitMs: waitFor(w, w.tokens + tokens - tpm, 'tokens', t, geo) };
  }
  const par = limitArg(s.limits.maxParallel);
  if (par > 0 && w.leases.size >= par) return { code: 3, waitMs: 1000 };
  return undefined;
}

function reserve(
  w: SubjectWindows,
  s: Subject,
  tokens: number,
  leaseId: string,
  t: number,
  geo: Geometry,
): SubjectState {
  const state: { requests?: SubjectState['requests']; tokens?: SubjectState['tokens'] } = {};
  const rpm = limitArg(s.limits.rpm);
  const tpm = limitArg(s.limits.tpm);
  const cur = Math.floor(t / geo.bucketMs);
  const resetMs = (cur + geo.k + 1) * geo.bucketMs - t;
  if (rpm > 0 || tpm > 0) {
    forget(w, t, geo);
    if (w.first === undefined) w.first = cur - geo.k;
    let b = w.buckets.get(cur);
    if (!b) {
      b = { tokens: 0, requests: 0 };
      w.buckets.set(cur, b);
    }
    b.requests++;
    w.requests++;
    if (tpm > 0) {
      b.tokens += tokens;
      w.tokens += tokens;
    }
  }
  if (rpm > 0) state.requests = { limit: rpm, remaining: Math.max(rpm - w.requests, 0), resetMs };
  if (tpm > 0) state.tokens = { limit: tpm, remaining: Math.max(tpm - w.tokens, 0), resetMs };
  if (limitArg(s.limits.maxParallel) > 0) w.leases.add(leaseId);
  return state;
}

/** Forgets the buckets that left the counted span (the current one and the K before it). */
function forget(w: SubjectWindows, t: number, geo: Geometry): void {
  if (w.first === undefined) return;
  const first = Math.floor(t / geo.bucketMs) - geo.k;
  if (w.first >= first) return;
  if (first - w.first > geo.k) {
    w.buckets.clear();
    w.tokens = 0;
    w.requests = 0;
    w.first = undefined;
    return;
  }
  for (let b = w.first; b < first; b++) {
    const v = w.buckets.get(b);
    if (v !== undefined) {
      w.tokens -= v.tokens;
      w.requests -= v.requests;
      w.buckets.delete(b);
    }
  }
  w.first = first;
}

/** When `need` of `what` will have left the span, oldest bucket first (as admit.lua walks it). */
function waitFor(w: SubjectWindows, need: number, what: keyof Bucket, t: number, geo: Geometry): number {
  let left = need;
  const cur = Math.floor(t / geo.bucketMs);
  for (let b = cur - geo.k; b <= cur; b++) {
    const v = w.buckets.get(b);
    if (v !== undefined && v[what] > 0) {
      left -= v[what];
      if (left <= 0) return (b + geo.k + 1) * geo.bucketMs - t;
    }
  }
  return geo.windowMs;
}

/** Drops subjects with nothing left to remember, like Redis TTLs do; returns when to sweep next. */
function sweep(subjects: Map<string, SubjectWindows>, t: number, geo: Geometry): number {
  for (const [id, w] of subjects) {
    forget(w, t, geo);
    const idle =
      w.requests === 0 &&
      w.tokens === 0 &&
      w.leases.size === 0 &&
      w.cooldownUntil <= t &&
      t - w.outcomeMinute * 60_000 > 120_000;
    if (idle) subjects.delete(id);
  }
  return t + geo.windowMs;
}
