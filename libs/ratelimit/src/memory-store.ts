import type { MemorySubjectState } from './fleet-view.js';
import type { MemoryAccounts } from './memory-accounts.js';
import {
  check,
  correct,
  count,
  countCall,
  forget,
  openMinute,
  reserve,
  type SubjectWindows,
  stateScore,
  sweep,
} from './memory-windows.js';
import { geometry, limitArg, type WindowOptions } from './options.js';
import { addLatency, latencyScore, rankOrder } from './pick-rank.js';
import type {
  Admission,
  AdmitRequest,
  ChargedAccount,
  FleetStore,
  LatencySample,
  Outcome,
  OutcomeCounts,
  StoreMode,
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

/** One subject's counts as `journal` reports them: per bucket, requests and tokens. */
export interface JournalWindow {
  readonly subjectId: string;
  readonly buckets: ReadonlyArray<{
    readonly bucket: number;
    readonly requests: number;
    readonly tokens: number;
  }>;
}

/**
 * The memory store, plus what the resilient store needs of it as Redis's stand-in, and a read-only
 * look at one subject for the fleet view (fleet-view.ts).
 */
export interface MemoryFleetStore extends FleetStore {
  inspect(id: string, now: number): MemorySubjectState;
  /**
   * Counts an admission made through Redis (its ticket), so that this store knows what the replica
   * itself has admitted in the window when it must limit on its own.
   */
  record(ticket: Ticket): void;
  /**
   * What the windows hold, per subject and bucket still in the span: what this store admitted on
   * its own (`all` false: the part Redis has not seen), or everything it counted (`all` true, for a
   * Redis that lost its data) with the leases of requests still in flight.
   */
  journal(all: boolean): {
    windows: JournalWindow[];
    leases: Array<{ subjectId: string; leaseIds: string[] }>;
  };
  /** What this store admitted on its own is now counted by Redis too: it becomes like the rest. */
  clearLocal(): void;
  /**
   * The end of an admission made through Redis (`record`): its tokens corrected to `actualTokens`,
   * its lease released. Synchronous and cheap: it runs for every request while Redis answers.
   */
  settleRecord(ticket: Ticket, actualTokens: number): void;
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
        slices: undefined,
        latency: undefined,
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
          // A gate out of its slice is out of requests.
          reason:
            reason.code === 6
              ? 'gate_rpm'
              : (['gate_rpm', 'gate_tpm', 'gate_parallel'] as const)[reason.code - 1]!,
          gateIndex: g,
          retryAfterMs: reason.waitMs,
        });
    }
    let soonest: number | undefined;
    let cooling = 0;
    const pick = request.pick;
    const order =
      pick && request.candidates.length > 1
        ? rankOrder(
            request.candidates.map((c) =>
              pick.by === 'latency'
                ? latencyScore(subjects.get(c.id)?.latency, pick, t)
                : stateScore(windows(c.id), c, pick, t, geo),
            ),
            pick,
          )
        : undefined;
    for (let n = 0; n < request.candidates.length; n++) {
      const i = order ? order[n]! : n;
      const subject = request.candidates[i]!;
      const reason = check(windows(subject.id), subject, tokens, t, geo, true);
      if (reason) {
        if (reason.code === 4) cooling++;
        if (soonest === undefined || reason.waitMs < soonest) soonest = reason.waitMs;
        continue;
      }
      const reserved = [subject, ...gates];
      const states = reserved.map((s) =>
        reserve(windows(s.id), s, tokens, request.leaseId, t, geo, mode === 'local'),
      );
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
    sample?: LatencySample,
  ): Promise<OutcomeCounts | undefined> {
    for (const a of ticket.accounts ?? [])
      options.accounts?.settle(a.id, a.cost, actualCost ?? a.cost, a.period);
    const t = now();
    if (sample) {
      const w = windows(ticket.subjects[0]!.id);
      w.latency ??= { lat: 0, latAt: 0, ttft: 0, ttftAt: 0 };
      addLatency(w.latency, sample, t);
    }
    const delta = Math.max(0, Math.ceil(actualTokens)) - ticket.tokens;
    const local = ticket.mode === 'local' && mode === 'local';
    for (const s of ticket.subjects) {
      const w = windows(s.id);
      if (limitArg(s.limits.tpm) > 0) correct(w, ticket.bucket, delta, t, geo, local);
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
    touch() {},
    record(ticket) {
      const t = now();
      for (const s of ticket.subjects) {
        const w = windows(s.id);
        count(w, s, limitArg(s.limits.tpm) > 0 ? ticket.tokens : 0, ticket.bucket, t, geo, false);
        if (limitArg(s.limits.maxParallel) > 0) w.leases.add(ticket.leaseId);
      }
    },
    settleRecord(ticket, actualTokens) {
      const delta = Number.isFinite(actualTokens) ? Math.max(0, Math.ceil(actualTokens)) - ticket.tokens : 0;
      let t: number | undefined;
      for (const s of ticket.subjects) {
        const w = subjects.get(s.id);
        if (!w) continue;
        if (delta !== 0 && limitArg(s.limits.tpm) > 0) {
          t ??= now();
          correct(w, ticket.bucket, delta, t, geo, false);
        }
        if (w.leases.size > 0) w.leases.delete(ticket.leaseId);
      }
    },
    journal(all) {
      const t = now();
      const out: ReturnType<MemoryFleetStore['journal']> = { windows: [], leases: [] };
      for (const [subjectId, w] of subjects) {
        forget(w, t, geo);
        const buckets: Array<{ bucket: number; requests: number; tokens: number }> = [];
        for (const [bucket, b] of w.buckets) {
          const requests = all ? b.requests : b.localRequests;
          const tokens = all ? b.tokens : b.localTokens;
          if (requests > 0 || tokens > 0) buckets.push({ bucket, requests, tokens });
        }
        if (buckets.length > 0) out.windows.push({ subjectId, buckets });
        if (all && w.leases.size > 0) out.leases.push({ subjectId, leaseIds: [...w.leases] });
      }
      return out;
    },
    clearLocal() {
      for (const w of subjects.values()) {
        for (const b of w.buckets.values()) {
          b.localRequests = 0;
          b.localTokens = 0;
        }
      }
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
