/** Limits of one subject. Absent means unlimited. */
export interface Limits {
  /** Requests admitted in any rolling window (60 s by default). */
  readonly rpm?: number | undefined;
  /** Tokens reserved, then settled to real usage, in the rolling window. */
  readonly tpm?: number | undefined;
  /** Requests in flight at once, held by leases that expire if their holder dies. */
  readonly maxParallel?: number | undefined;
  /**
   * Smoothing: at most `max` requests admitted in any rolling `ms` (a provider that enforces its
   * RPM quota per second or per 10 s). Counted in tenths of the slice, so the check spans 1.1 slices.
   */
  readonly slice?: { readonly ms: number; readonly max: number } | undefined;
}

/**
 * Something limited: a deployment, a virtual key, or a key on one model group. The id is the
 * caller's (`d:<deployment-id>`, `k:<key-hash>` …) and becomes part of the Redis key names.
 */
export interface Subject {
  readonly id: string;
  readonly limits: Limits;
}

export interface AdmitRequest {
  /** Deployments in preference order: the first that is not cooling down and has room is chosen. */
  readonly candidates: readonly Subject[];
  /** Subjects that must all have room as well (a key's windows); reserved with the chosen candidate. */
  readonly gates?: readonly Subject[] | undefined;
  /** Tokens to reserve in TPM windows now (an estimate; see `settle`). */
  readonly tokens: number;
  /** Names the in-flight lease of this admission; unique per admission (a retry takes a new one). */
  readonly leaseId: string;
  /**
   * The request's own timeout (ms): its lease is renewed only while the request shows progress
   * (`touch`) within this long, so a request that never settles cannot hold its slot for ever.
   * @default renewed until settled
   */
  readonly holdMs?: number | undefined;
  /**
   * Budgeted accounts (a virtual key, its team, its user) checked and charged in the same atomic
   * call: each must exist, not be blocked or expired, and be under its budget; `cost` (an estimate)
   * is reserved in each one's spend and settled to the real cost later.
   */
  readonly accounts?: readonly AccountCharge[] | undefined;
  /**
   * Rank the candidates by the fleet's numbers inside the same atomic call, instead of walking them
   * in the order given. The order given still breaks ties. @default the order given
   */
  readonly pick?: PickRule | undefined;
}

/**
 * How admission ranks candidates by shared state before walking them for room. Candidates are given
 * in tiers (`order`): a candidate of a lower tier always comes before one of a higher tier; inside a
 * tier the lowest score comes first, and equal scores keep the order given (a weighted shuffle).
 */
export interface PickRule {
  /**
   * - `usage`: the fullest of the candidate's windows, as a fraction of its limit (rpm, tpm); a
   *   candidate without limits scores its tokens ÷ 10¹² (below any limited one; among themselves,
   *   the fewest tokens first, as LiteLLM's usage-based routing);
   * - `in_flight`: requests in flight fleet-wide (its in-flight set: give every candidate a
   *   `maxParallel` limit so one is kept);
   * - `latency`: the moving average of its latency per output token, or of its time to first token
   *   for a stream (`stream`), as settlements reported them (`LatencySample`); a candidate with no
   *   sample newer than `ttlMs` scores 0, so it gets tried.
   */
  readonly by: 'usage' | 'in_flight' | 'latency';
  /** Each candidate's tier, non-decreasing, 0–15 (one per candidate). */
  readonly tiers: readonly number[];
  /** latency: rank by time to first token. */
  readonly stream?: boolean | undefined;
  /** latency: every candidate within (1 + buffer) × the lowest score counts as the lowest. @default 0 */
  readonly buffer?: number | undefined;
  /** latency: samples older than this are forgotten. @default 3,600,000 */
  readonly ttlMs?: number | undefined;
}

/** One request's timing, folded into the chosen candidate's moving averages at settlement. */
export interface LatencySample {
  /** Whole-request latency ÷ output tokens (ms), or the whole latency when it produced none. */
  readonly msPerToken?: number | undefined;
  /** Time to first token of a stream (ms). */
  readonly ttftMs?: number | undefined;
  /** Weight of a new sample in the moving average (0–1]: 2 ÷ (LiteLLM's max_latency_list_size + 1). */
  readonly alpha: number;
}

export interface AccountCharge {
  readonly id: string;
  /** Estimated cost of this request, reserved now (USD). */
  readonly cost: number;
  /**
   * Whether its budget may refuse the request. Off, the account is still checked (exists, not
   * blocked or expired) and charged, so its spend counts (a user's spend through a team key).
   * @default true
   */
  readonly enforceBudget?: boolean | undefined;
}

/** How much of one window is left after an admission, for `x-ratelimit-*` headers. */
export interface WindowState {
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the window has forgotten everything admitted so far. */
  readonly resetMs: number;
}

/** The windows of one reserved subject after admission; absent windows are unlimited. */
export interface SubjectState {
  readonly requests?: WindowState | undefined;
  readonly tokens?: WindowState | undefined;
}

/** What `settle` needs to give back what admission reserved. Plain data: it may outlive the call. */
export interface Ticket {
  /** Reserved subjects: the chosen candidate first, then the gates. */
  readonly subjects: readonly Subject[];
  /** The TPM bucket the reservation went into. */
  readonly bucket: number;
  readonly tokens: number;
  readonly leaseId: string;
  /** Which store issued it, so a ticket from before a switch is settled where it was reserved. */
  readonly mode: StoreMode;
  /** The accounts charged, the cost reserved in each, and the budget period it was reserved in. */
  readonly accounts?: readonly ChargedAccount[] | undefined;
}

export interface ChargedAccount {
  readonly id: string;
  readonly cost: number;
  readonly period: number;
}

/** Why nothing was admitted. */
export type BlockReason =
  /** A gate (key) is out of requests, tokens or parallel slots. */
  | 'gate_rpm'
  | 'gate_tpm'
  | 'gate_parallel'
  /** Every candidate is cooling down. */
  | 'cooldown'
  /** No candidate has room (some may be cooling down too). */
  | 'no_capacity'
  /** An account does not exist (deleted, regenerated, never issued); `accountIndex` says which. */
  | 'account_missing'
  | 'account_blocked'
  /** Past the account's expiry; `limitValue` says when it expired (ms). */
  | 'account_expired'
  /** The account's spend reached its budget; `spend` and `limitValue` (the budget) say how far. */
  | 'account_budget'
  /**
   * Redis did not answer in time, so whether the request was admitted is unknown: it is not
   * served, and if Redis did admit it, that admission is given back when its reply or record is
   * read. Not a statement about capacity: retry soon.
   */
  | 'unknown';

export type Admission =
  | {
      readonly admitted: true;
      /** Index into `candidates` of the chosen deployment. */
      readonly index: number;
      readonly ticket: Ticket;
      /** States of the chosen candidate, then of each gate, in request order. */
      readonly states: readonly SubjectState[];
      /** The first account's spend after this reservation. */
      readonly spend?: number | undefined;
    }
  | {
      readonly admitted: false;
      readonly reason: BlockReason;
      /** For gate reasons, which gate (else -1). */
      readonly gateIndex: number;
      /** For account reasons, which account of the request (else -1). */
      readonly accountIndex?: number | undefined;
      /** Milliseconds until a slot may free; the basis of `retry-after`. */
      readonly retryAfterMs: number;
      /** For account reasons: that account's spend, and its budget or expiry. */
      readonly spend?: number | undefined;
      readonly limitValue?: number | undefined;
    };

/** How the upstream call went, for the deployment's failure counts. */
export type Outcome = 'success' | 'failure' | 'none';

/** Failures and calls (admissions) of a deployment in the current minute, this failure included. */
export interface OutcomeCounts {
  readonly failures: number;
  readonly total: number;
}

/** Where the shared state is served from right now. */
export type StoreMode = 'shared' | 'local';

/**
 * The fleet's shared state: every window, cooldown and in-flight count. One implementation keeps it
 * in Redis (every replica sees the same), one in memory (a single replica, or the fallback while
 * Redis is away). Over-the-limit is a value, never an exception; exceptions mean the store itself
 * failed.
 */
export interface FleetStore {
  /** Atomically checks gates and candidates and reserves in the gates and the first candidate with room. */
  admit(request: AdmitRequest): Promise<Admission>;
  /**
   * Ends a request: corrects the TPM reservation to `actualTokens` and releases the in-flight lease.
   * A `failure` is counted in the chosen candidate's minute (`ticket.subjects[0]`; admission counted
   * the call) and the minute's counts come back for the cooldown decision; other outcomes resolve to
   * undefined. With an account, its spend moves from the reserved estimate to `actualCost` (a
   * request whose replica dies before settling stays charged its estimate: spend is never lost).
   * Off the client's critical path: a success is not awaited, and settlements of many requests may
   * share one Redis call. Applied exactly once, also when Redis is slow or its connection drops
   * (sent again under the same id until Redis answers); never rejects. A `sample` (a success's
   * timing) moves the chosen candidate's latency averages, which `pick: { by: 'latency' }` ranks by.
   */
  settle(
    ticket: Ticket,
    actualTokens: number,
    outcome: Outcome,
    actualCost?: number,
    sample?: LatencySample,
  ): Promise<OutcomeCounts | undefined>;
  /** The request holding this ticket made progress (a streamed chunk): its lease stays renewed. */
  touch(ticket: Ticket): void;
  /** Cools a candidate subject down for `ms`; a cooldown already running longer is left as it is. */
  coolDown(subjectId: string, ms: number): Promise<void>;
  /** Milliseconds of cooldown left for each subject id (0 = available), for health and metrics. */
  cooldowns(subjectIds: readonly string[]): Promise<number[]>;
  readonly mode: () => StoreMode;
  close(): Promise<void>;
}
